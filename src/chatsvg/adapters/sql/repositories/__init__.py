"""One repository per aggregate, over SQLAlchemy Core, each working on the connection (the
transaction) of the SqlUnitOfWork that owns it. Statements are defined next to the methods that
run them; hot ones are built once at import, values travel as parameters."""
