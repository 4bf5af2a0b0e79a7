"""QoS: Cinder QoS specs as the node's per-volume limits.

QosSpecParsingTest checks qos_limits alone; DriverQosTest drives the driver against
tests/fake_basalt.py (or a live node, as test_driver.py does, when BASALT_API_URL is set).
"""

import os
import unittest
import uuid
from unittest import mock

from tests import cinder_support as cs
from tests.fake_basalt import FakeBasalt

UNLIMITED = {'totalIops': 0, 'readIops': 0, 'writeIops': 0, 'totalBytesPerSec': 0,
             'readBytesPerSec': 0, 'writeBytesPerSec': 0, 'burstSeconds': 0}


def qos_specs(consumer, **specs):
    return {'id': str(uuid.uuid4()), 'name': 'gold', 'consumer': consumer,
            'specs': {key: str(value) for key, value in specs.items()}}


class QosSpecParsingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cs.require_cinder()
        from basalt_cinder.driver import qos_limits
        from cinder import exception
        cls.parse = staticmethod(qos_limits)
        cls.exception = exception

    def test_every_plain_spec_sets_its_field(self):
        specs = qos_specs('back-end', total_iops_sec=1000, read_iops_sec=600, write_iops_sec=400,
                          total_bytes_sec=100 << 20, read_bytes_sec=60 << 20, write_bytes_sec=40 << 20,
                          burst_seconds=10)
        self.assertEqual({'totalIops': 1000, 'readIops': 600, 'writeIops': 400,
                          'totalBytesPerSec': 100 << 20, 'readBytesPerSec': 60 << 20,
                          'writeBytesPerSec': 40 << 20, 'burstSeconds': 10}, self.parse(specs, 10))

    def test_missing_figures_are_unlimited_so_a_change_replaces_every_limit(self):
        self.assertEqual(dict(UNLIMITED, readIops=5), self.parse(qos_specs('both', read_iops_sec=5), 1))

    def test_per_gb_specs_scale_with_the_size(self):
        specs = qos_specs('back-end', total_iops_sec_per_gb=30, write_bytes_sec_per_gb=0.5 * (1 << 20))
        self.assertEqual(dict(UNLIMITED, totalIops=300, writeBytesPerSec=5 << 20), self.parse(specs, 10))
        self.assertEqual(dict(UNLIMITED, totalIops=600, writeBytesPerSec=10 << 20), self.parse(specs, 20))
        self.assertEqual(dict(UNLIMITED, readIops=1), self.parse(qos_specs('both', read_iops_sec_per_gb=0.5), 3),
                         'fractions round down')

    def test_front_end_and_absent_specs_are_not_the_nodes(self):
        self.assertIsNone(self.parse(qos_specs('front-end', total_iops_sec=100), 1))
        self.assertIsNone(self.parse(None, 1))
        self.assertIsNone(self.parse({}, 1))

    def test_other_backends_keys_are_left_alone(self):
        self.assertEqual(dict(UNLIMITED, totalIops=7),
                         self.parse(qos_specs('back-end', total_iops_sec=7, maxIOPS=9), 1))

    def test_invalid_specs_are_refused_with_the_key(self):
        for specs in (dict(total_iops_sec=-1), dict(read_bytes_sec='fast'), dict(write_iops_sec=1.5),
                      dict(total_iops_sec_per_gb='nan'), dict(total_iops_sec_per_gb='inf'),
                      dict(total_iops_sec=10, total_iops_sec_per_gb=1), dict(burst_seconds=3601)):
            with self.subTest(specs=specs):
                with self.assertRaises(self.exception.InvalidQoSSpecs) as refused:
                    self.parse(qos_specs('back-end', **specs), 1)
                self.assertIn(sorted(specs)[0], str(refused.exception))


class DriverQosContract:
    """Subclasses provide cls.url and cls.token."""

    url = token = None

    @classmethod
    def setUpClass(cls):
        cs.require_cinder()
        from basalt_cinder import api
        from cinder import exception
        cls.exception = exception
        cls.api_error = api.BasaltApiError
        cls.project = uuid.uuid4().hex
        cls.driver = cs.new_driver(cls.url, cls.token)
        cls.api = api.VolumeApi(cls.url, token=cls.token, timeout=10)
        cls.qos = {}
        for target, table in (('get_volume_type_qos_specs', cls.qos),
                              ('get_volume_type_extra_specs', {})):
            patcher = mock.patch('cinder.volume.volume_types.' + target,
                                 side_effect=lambda type_id, table=table, target=target:
                                 {'qos_specs': table.get(type_id)} if target.endswith('qos_specs')
                                 else table.get(type_id, {}))
            patcher.start()
            cls.addClassCleanup(patcher.stop)

    def tearDown(self):
        for vol in self.api.list_volumes(project=self.project):
            self.api.delete_volume(vol['id'], project=self.project)
        for snap in self.api.list_snapshots(project=self.project):
            self.api.delete_snapshot(snap['id'], project=self.project)

    def create(self, size, type_id):
        volume = cs.new_volume(self.project, size=size, type_id=type_id)
        return cs.apply(volume, self.driver.create_volume(volume))

    def limits(self, volume):
        return self.api.get_volume(volume.provider_id, project=self.project)['qos']

    def test_stats_say_qos_is_supported(self):
        self.assertTrue(self.driver.get_volume_stats(refresh=True)['pools'][0]['QoS_support'])

    def test_a_types_back_end_qos_reaches_the_node_and_per_gb_follows_extend(self):
        gold = str(uuid.uuid4())
        self.qos[gold] = qos_specs('both', read_iops_sec=500, total_iops_sec_per_gb=100, burst_seconds=2)
        volume = self.create(1, gold)
        self.assertEqual(dict(UNLIMITED, readIops=500, totalIops=100, burstSeconds=2), self.limits(volume))

        self.driver.extend_volume(volume, 3)
        self.assertEqual(dict(UNLIMITED, readIops=500, totalIops=300, burstSeconds=2), self.limits(volume))

        clone = cs.new_volume(self.project, size=2, type_id=gold)
        cs.apply(clone, self.driver.create_cloned_volume(clone, volume))
        self.assertEqual(200, self.limits(clone)['totalIops'], 'a clone gets its own size\'s limits')

    def test_front_end_qos_and_no_qos_leave_the_volume_unlimited(self):
        nova = str(uuid.uuid4())
        self.qos[nova] = qos_specs('front-end', total_iops_sec=100)
        self.assertEqual(UNLIMITED, self.limits(self.create(1, nova)))
        self.assertEqual(UNLIMITED, self.limits(self.create(1, None)))

    def test_invalid_specs_create_nothing(self):
        bad = str(uuid.uuid4())
        self.qos[bad] = qos_specs('back-end', write_iops_sec='lots')
        with self.assertRaises(self.exception.InvalidQoSSpecs):
            self.create(1, bad)
        self.assertEqual([], self.api.list_volumes(project=self.project))

    def test_a_limit_the_node_refuses_is_a_backend_error_with_its_message(self):
        huge = str(uuid.uuid4())
        self.qos[huge] = qos_specs('back-end', total_iops_sec=2 ** 63)
        with self.assertRaises(self.exception.InvalidQoSSpecs):
            self.create(1, huge)
        self.qos[huge] = qos_specs('back-end', total_bytes_sec_per_gb=2 ** 62)
        volume = self.create(1, huge)
        self.assertEqual(2 ** 62, self.limits(volume)['totalBytesPerSec'])
        refusal = self.api_error(400, 'totalIops must be an integer from 0 (no limit) to 9223372036854775807',
                                 'totalIops')
        with mock.patch.object(self.driver.client, 'set_qos', side_effect=refusal):
            with self.assertRaises(self.exception.VolumeBackendAPIException) as failed:
                self.driver.extend_volume(volume, 2)
        self.assertIn('totalIops', str(failed.exception))


class DriverQosLiveTest(DriverQosContract, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.url = os.environ.get('BASALT_API_URL')
        cls.token = os.environ.get('BASALT_API_TOKEN')
        if not cls.url:
            raise unittest.SkipTest('BASALT_API_URL names no running node')
        super().setUpClass()


class DriverQosFakeTest(DriverQosContract, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeBasalt(token='fake-admin')
        cls.fake.__enter__()
        cls.addClassCleanup(cls.fake.__exit__, None, None, None)
        cls.url = cls.fake.url
        cls.token = cls.fake.token
        super().setUpClass()


if __name__ == '__main__':
    unittest.main()
