"""Word lists the data generator draws realistic customer names, emails and companies from."""

from __future__ import annotations

FIRST_NAMES = ["Ada", "Alan", "Grace", "Linus", "Guido", "Barbara", "Ken", "Dennis", "Margaret", "Donald", "Edsger", "Frances", "John", "Katherine", "Tim", "Radia", "Vint", "Bjarne", "Anders", "Yukihiro", "Larry", "Rasmus", "James", "Brendan", "Sophie", "Hedy", "Joan", "Annie", "Dorothy", "Jean", "Lynn", "Carol", "Mary", "Karen", "Shafi", "Leslie", "Niklaus", "Tony", "Robin", "Judea", "Whitfield", "Martin", "Silvio", "Raj", "Fei", "Andrew", "Geoffrey", "Yoshua", "Daphne", "Cynthia", "Priya", "Ananya", "Wei", "Chen", "Hiroshi", "Aiko", "Olu", "Amara", "Kwame", "Zainab", "Mateo", "Lucia", "Sofia", "Camila", "Diego", "Elena", "Ingrid", "Lars", "Astrid", "Nils", "Freya", "Oskar", "Maja", "Pavel", "Olga", "Dmitri", "Irina"]

LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Torvalds", "Rossum", "Liskov", "Thompson", "Ritchie", "Hamilton", "Knuth", "Dijkstra", "Allen", "McCarthy", "Johnson", "Berners-Lee", "Perlman", "Cerf", "Stroustrup", "Hejlsberg", "Matsumoto", "Wall", "Lerdorf", "Gosling", "Eich", "Wilson", "Lamarr", "Clarke", "Easley", "Vaughan", "Bartik", "Conway", "Shaw", "Keller", "Jones", "Goldwasser", "Lamport", "Wirth", "Hoare", "Milner", "Pearl", "Diffie", "Hellman", "Micali", "Reddy", "Li", "Ng", "Hinton", "Bengio", "Koller", "Dwork", "Sharma", "Gupta", "Wang", "Zhang", "Tanaka", "Suzuki", "Okafor", "Mensah", "Abubakar", "Garcia", "Rodriguez", "Martinez", "Lopez", "Gonzalez", "Hansen", "Johansson", "Andersen", "Nielsen", "Novak", "Ivanova", "Petrov", "Smirnov", "Kowalski", "Nowak", "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Smith", "Smithson", "Brown", "Taylor", "Walker", "Wright", "Green"]

EMAIL_DOMAINS = (
    "example.org", "example.com", "mail.example.net", "python.example", "uni.example.edu",
    "corp.example", "dev.example.io",
)

COMPANY_HEADS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Cyberdyne", "Tyrell", "Soylent", "Aperture", "Black", "Mesa", "Vandelay", "Pied", "Piper", "Massive", "Dynamic", "Oceanic", "Dunder", "Mifflin", "Monarch", "Gringotts", "Nakatomi", "Virtucon", "Zorg", "Oscorp", "Weyland", "Yutani", "Blue", "Sun", "Veidt", "Krusty", "Bluth", "Sterling", "Prestige", "Worldwide", "Gekko"]

COMPANY_TAILS = (
    "Labs", "Systems", "Software", "Analytics", "Consulting", "Industries", "Cloud", "Data", "Robotics",
    "University", "Foundation", "GmbH", "Ltd", "Inc", "Studio", "Networks",
)

TICKET_KINDS = (
    "Individual", "Corporate", "Student", "Speaker", "Volunteer", "Patron", "Online", "Day pass",
    "Tutorial pass", "Sprint pass", "Community", "Government", "Startup", "Retiree", "Press",
)

ADDON_KINDS = (
    "Workshop", "T-Shirt", "Dinner", "Tutorial", "Parking", "Childcare", "Hoodie", "Sprint lunch",
    "Museum night", "Lightning bag", "Coffee card", "Poster print",
)
