"""The demo loaders behind `python manage.py seed_demo`: each reads one file of fixtures/demo into its app."""
