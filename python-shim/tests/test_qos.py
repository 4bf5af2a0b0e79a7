"""QoS: Cinder QoS specs as the node's per-volume limits.

QosSpecParsingTest checks qos_limits alone; test_driver.py's DriverContract drives the driver's QoS
against the fake and a live node.
"""

import unittest
import uuid

from tests import cinder_support as cs

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


if __name__ == '__main__':
    unittest.main()
