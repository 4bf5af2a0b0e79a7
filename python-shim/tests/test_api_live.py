"""The API client against a live Basalt node (BASALT_API_URL and BASALT_API_TOKEN, as
test-live.sh sets them)."""

import os
import unittest
import uuid

from basalt_cinder.api import BasaltApiError, VolumeApi

HOST = "nqn.2014-08.org.nvmexpress:uuid:" + str(uuid.uuid4())


class VolumeApiLiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        url = os.environ.get("BASALT_API_URL")
        if not url:
            raise unittest.SkipTest("BASALT_API_URL names no running node")
        cls.token = os.environ.get("BASALT_API_TOKEN")
        cls.api = VolumeApi(url, token=cls.token, timeout=10)
        cls.url = url

    def test_volume_lifecycle(self):
        name = "py-" + uuid.uuid4().hex[:8]
        volume = self.api.create_volume(name, 8 * 1024 * 1024, [HOST])
        try:
            self.assertEqual(name, volume["name"])
            self.assertEqual([HOST], volume["hosts"])
            self.assertEqual("tcp", volume["portals"][0]["transport"])
            self.assertEqual(volume, self.api.get_volume(volume["id"]))
            self.assertIn(volume["id"], [v["id"] for v in self.api.list_volumes()])
            self.assertEqual([], self.api.set_hosts(volume["id"], [])["hosts"])
        finally:
            self.api.delete_volume(volume["id"])
        with self.assertRaises(BasaltApiError) as missing:
            self.api.get_volume(volume["id"])
        self.assertEqual(404, missing.exception.status)
        self.api.delete_volume(volume["id"])  # deleting again succeeds

    def test_bad_request_names_the_field(self):
        with self.assertRaises(BasaltApiError) as bad:
            self.api.create_volume("bad-size", 1000)
        self.assertEqual(400, bad.exception.status)
        self.assertEqual("sizeBytes", bad.exception.field)

    def test_token_is_required(self):
        self.assertEqual("ok", VolumeApi(self.url).health()["status"])
        for token in (None, "not-the-token"):
            with self.assertRaises(BasaltApiError) as refused:
                VolumeApi(self.url, token=token, timeout=10).list_volumes()
            self.assertEqual(401, refused.exception.status)

    def test_projects_are_separate(self):
        a, b = "py-a-" + uuid.uuid4().hex[:8], "py-b-" + uuid.uuid4().hex[:8]
        volume = self.api.create_volume("same-name", 8 * 1024 * 1024, project=a)
        try:
            self.assertEqual(a, volume["project"])
            other = self.api.create_volume("same-name", 16 * 1024 * 1024, project=b)
            self.api.delete_volume(other["id"], project=b)
            with self.assertRaises(BasaltApiError) as hidden:
                self.api.get_volume(volume["id"], project=b)
            self.assertEqual(404, hidden.exception.status)
            self.assertEqual([volume["id"]], [v["id"] for v in self.api.list_volumes(project=a)])
            self.assertEqual(volume, self.api.find_volume("same-name", project=a))
            self.assertIsNone(self.api.find_volume("same-name", project=b))
        finally:
            self.api.delete_volume(volume["id"], project=a)

    def test_identical_retry_and_conflict(self):
        project = "py-" + uuid.uuid4().hex[:8]
        first = self.api.create_volume("retry", 8 * 1024 * 1024, [HOST], project=project)
        try:
            self.assertEqual(first["id"], self.api.create_volume("retry", 8 * 1024 * 1024, [HOST],
                                                                 project=project)["id"])
            with self.assertRaises(BasaltApiError) as conflict:
                self.api.create_volume("retry", 16 * 1024 * 1024, [HOST], project=project)
            self.assertEqual(409, conflict.exception.status)
        finally:
            self.api.delete_volume(first["id"], project=project)

    def test_unreachable_api_is_a_clear_error(self):
        with self.assertRaises(BasaltApiError) as down:
            VolumeApi("http://127.0.0.1:9", timeout=2).health()
        self.assertEqual(0, down.exception.status)
        self.assertIn("unreachable", str(down.exception))


if __name__ == "__main__":
    unittest.main()
