"""The Shifts screen: this desk's cash drawer shift, past shifts and their reports."""
