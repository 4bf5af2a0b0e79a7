"""The API client against a live Basalt node (BASALT_API_URL, started by bin/test)."""

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
        cls.api = VolumeApi(url, timeout=10)

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

    def test_unreachable_api_is_a_clear_error(self):
        with self.assertRaises(BasaltApiError) as down:
            VolumeApi("http://127.0.0.1:9", timeout=2).health()
        self.assertEqual(0, down.exception.status)
        self.assertIn("unreachable", str(down.exception))


if __name__ == "__main__":
    unittest.main()
