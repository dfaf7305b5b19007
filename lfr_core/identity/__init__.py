"""Identity: who acts. The platform's roles and the acting person (model.py), the people and their database
logins (people.py), password sign-in and the services' sessions (sessions.py), the bearer tokens of the identity
provider or the local issuer (tokens.py), a transaction run as the person's own database role (roles.py), and
the logged consultations of personal data, each made by a signed-in person with a reason (consultations.py)."""
