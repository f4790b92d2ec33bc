"""stub"""
from app.audiences import models  # noqa: F401
