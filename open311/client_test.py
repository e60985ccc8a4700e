"""Doorstep's Open311 GeoReport v2 endpoint, driven by two third-party clients from PyPI:

- georeport 0.3.1 (GeoReport): services, service definitions, request search and
  single requests, in JSON and in XML (parsed with xmltodict);
- civicbot 0.4.0 (Open311Client): the same reads, token lookup, and a real POST of a
  new request (form-encoded, api_key), with its validation and error handling.

Usage: OPEN311_ROOT=http://127.0.0.1:PORT/open311/v2 OPEN311_API_KEY=ds_... \
       python -m unittest open311/client_test.py
Runs against `doorstep demo` (one jurisdiction, so jurisdiction_id may be left out).
"""

import os
import unittest

from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

ROOT = os.environ["OPEN311_ROOT"].rstrip("/")
KEY = os.environ["OPEN311_API_KEY"]
# A point inside 牡丹第七居民区 in the demo (within 300 m of its buildings).
LAT, LNG = float(os.environ.get("OPEN311_LAT", "31.2125")), float(os.environ.get("OPEN311_LNG", "121.5480"))
SECRETS = ("13912345678", "li.mei@example.com", "李梅")


def civic(fmt="json"):
    endpoint = Endpoint(id="doorstep", name="Doorstep demo", base_url=ROOT, write=True)
    # No politeness delay against our own test server.
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0.0))
    return Open311Client(endpoint, transport=transport, fmt=fmt)


class Open311ThirdPartyClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = civic()
        services = cls.client.list_services()
        # A matter of the shared place, which the demo catalogue marks publishable (a
        # resident's own affairs are never listed publicly).
        cls.service = next(s for s in services if s["service_name"] == "楼道照明与公共设施报修")
        prepared = cls.client.create_request(
            cls.service["service_code"],
            dry_run=False,
            confirm="SEND",
            api_key=KEY,
            validate_remote=True,
            lat=LAT,
            lng=LNG,
            description="垃圾箱房满溢，气味很大，请尽快清运",
            # The service definition's one attribute: the resident lets the listing
            # show the description (validated by the client against the definition).
            attributes={"publish_description": "yes"},
            first_name="梅",
            last_name="李",
            phone="13912345678",
            email="li.mei@example.com",
        )
        cls.created = prepared.response[0]

    def test_georeport_lists_services_in_json_and_xml(self):
        for fmt in ("json", "xml"):
            g = GeoReport(ROOT, output_format=fmt)
            services = g.get_service_list()
            codes = {s["service_code"] for s in services}
            self.assertIn("general", codes)
            self.assertGreaterEqual(len(services), 60, fmt)
            one = next(s for s in services if s["service_code"] != "general")
            self.assertTrue(one["service_name"])
            definition = g.get_service_definition(one["service_code"])
            self.assertEqual(str(definition["service_code"]), one["service_code"])

    def test_post_returns_an_id_and_a_token(self):
        self.assertTrue(self.created["service_request_id"].isdigit())
        self.assertEqual(len(self.created["token"]), 10)
        by_token = self.client.get_token(self.created["token"])
        self.assertEqual(by_token[0]["service_request_id"], self.created["service_request_id"])

    def test_georeport_reads_the_new_request_without_personal_data(self):
        rid = self.created["service_request_id"]
        for fmt in ("json", "xml"):
            g = GeoReport(ROOT, output_format=fmt)
            one = g.get_service_request(rid)
            self.assertEqual(one["service_request_id"], rid)
            self.assertEqual(one["status"], "open")
            self.assertEqual(one["service_code"], self.service["service_code"])
            self.assertIn("垃圾箱房", one["description"])
            found = g.get_service_requests(service_request_id=rid)
            found = found if isinstance(found, list) else [found]
            self.assertEqual([r["service_request_id"] for r in found], [rid])
            text = repr(one) + repr(found)
            for secret in SECRETS:
                self.assertNotIn(secret, text, f"{secret} leaked in {fmt}")

    def test_search_filters_by_status_service_and_dates(self):
        rid = self.created["service_request_id"]
        code = self.service["service_code"]
        open_now = self.client.list_requests(status="open", service_code=code)
        self.assertIn(rid, [r["service_request_id"] for r in open_now])
        self.assertTrue(all(r["status"] == "open" for r in open_now))
        closed = self.client.list_requests(status="closed")
        self.assertTrue(closed, "the demo has closed requests")
        self.assertTrue(all(r["status"] == "closed" and r["status_notes"] for r in closed))
        old = self.client.list_requests(start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z")
        self.assertEqual(old, [])
        one = self.client.get_request(rid)
        self.assertEqual(one["service_request_id"], rid)

    def test_errors_come_in_the_spec_format(self):
        with self.assertRaises(HttpError) as bad_key:
            self.client.create_request(
                self.service["service_code"], dry_run=False, confirm="SEND", api_key="not-a-key",
                lat=LAT, lng=LNG, description="测试")
        self.assertEqual(bad_key.exception.status, 403)
        self.assertIn('"description"', bad_key.exception.body)
        with self.assertRaises(HttpError) as far:
            self.client.create_request(
                self.service["service_code"], dry_run=False, confirm="SEND", api_key=KEY,
                lat=40.0, lng=116.4, description="北京的问题")
        self.assertEqual(far.exception.status, 400)
        self.assertIn("300 m", far.exception.body)
        with self.assertRaises(HttpError) as missing:
            self.client.get_request("999999999")
        self.assertEqual(missing.exception.status, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
