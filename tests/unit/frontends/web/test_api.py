"""
Unit tests of the JSON API (finger.frontends.web.api), through a real FingerSite.
"""

from __future__ import annotations

import json

from twisted.trial.unittest import TestCase

from tests.helpers.webclient import SCRIPT, SiteClient


class APITests(TestCase):
    def setUp(self):
        self.client = SiteClient({f"u{i}": f"s{i}" for i in range(5)} | {"mallory": SCRIPT})

    def json(self, path, code=200):
        response = self.client.get(path)
        self.assertEqual(response.code, code, response.body)
        self.assertEqual(response.header("Content-Type"), "application/json")
        return json.loads(response.body)

    def test_list(self):
        self.assertEqual(
            self.json("/api/users"),
            {"users": ["mallory", "u0", "u1", "u2", "u3", "u4"], "total": 6, "next": None},
        )
        page = self.json("/api/users?offset=1&limit=2")
        self.assertEqual(
            page, {"users": ["u0", "u1"], "total": 6, "next": "/api/users?offset=3&limit=2"}
        )
        self.assertEqual(self.json(page["next"])["users"], ["u2", "u3"])
        self.assertEqual(self.json("/api/users?offset=100")["users"], [])
        self.assertEqual(self.json("/api/users/")["total"], 6)

    def test_user(self):
        self.assertEqual(self.json("/api/users/mallory"), {"name": "mallory", "status": SCRIPT})

    def test_notFound(self):
        for path in [
            "/api/users/nobody",
            "/api",
            "/api/",
            "/api/other",
            "/api/users/u1/more",
            "/api/users/%ff",
        ]:
            self.assertIn("error", self.json(path, 404), path)
        self.assertEqual(self.json("/api/users/nobody", 404), {"error": "no such user: nobody"})

    def test_badParameters(self):
        for query in [
            "offset=-1",
            "offset=x",
            "offset=",
            "offset=1.0",
            "limit=0",
            "limit=1001",
            "limit=ten",
            "limit=1&limit=2",
            "offset=%EF%BC%91",
        ]:
            error = self.json(f"/api/users?{query}", 400)["error"]
            self.assertRegex(error, r"^(offset|limit) ", query)
