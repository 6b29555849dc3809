"""The end-to-end fixtures (a live server over real HTTP), for the tests here that need one."""

from tests.e2e.conftest import client_factory, server, server_factory

__all__ = ["client_factory", "server", "server_factory"]
