"""Runtime configuration, read once from the environment (``BANK_*`` variables)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob the service reads; each maps to an upper-case ``BANK_`` variable."""

    model_config = SettingsConfigDict(env_prefix="BANK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 3000
    database_url: str = "sqlite:///banking.db"
    seed_on_empty: bool = True
    """Create the schema and load the sample data when the database is new."""
    cache_mb: int = 64
    """Memory each worker may use to keep answers of read endpoints; 0 turns the cache off."""
    mcp_allow_writes: bool = False
    """List and allow the MCP tools that register and delete customers."""
    cursor_secret: str = "dummy-bank-cursors"
    """Key that signs page cursors; set the same value on every worker behind one address."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
