"""Retype: which differences between two volume types the node changes in place.

RetypeDiffTest checks retype_blockers alone; test_driver.py's DriverContract drives the driver's
retype against the fake and a live node.
"""

import unittest

from tests import cinder_support as cs


class RetypeDiffTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cs.require_cinder()
        from basalt_cinder.driver import retype_blockers
        from cinder import exception
        cls.blockers = staticmethod(retype_blockers)
        cls.exception = exception

    def test_compression_qos_and_other_backends_keys_change_in_place(self):
        diff = {'extra_specs': {'basalt:compression': ('<is> True', '<is> False'),
                                'volume_backend_name': ('basalt', 'basalt'),
                                'multiattach': (None, '<is> True'),
                                'vendor:thing': ('a', 'b')},
                'qos_specs': {'total_iops_sec': ('100', '200'), 'consumer': ('back-end', 'both')},
                'encryption': {}}
        self.assertEqual([], self.blockers(diff))
        self.assertEqual([], self.blockers({}))
        self.assertEqual([], self.blockers(None))
        self.assertEqual([], self.blockers({'extra_specs': {'basalt:compression': ('True', None)}}),
                         'a removed spec: the volume keeps its compression')

    def test_replicas_that_do_not_change_in_effect_need_no_migration(self):
        self.assertEqual([], self.blockers({'extra_specs': {'basalt:replicas': ('1', None)}}))
        self.assertEqual([], self.blockers({'extra_specs': {'basalt:replicas': (None, ' 2 ')}}, 2))
        self.assertEqual([], self.blockers({'extra_specs': {'basalt:replicas': ('1', '1')}}))

    def test_replicas_and_encryption_need_a_migration(self):
        [reason] = self.blockers({'extra_specs': {'basalt:replicas': ('1', '3')}})
        self.assertIn('basalt:replicas changes from 1 to 3', reason)
        self.assertEqual(1, len(self.blockers({'extra_specs': {'basalt:replicas': (None, '2')}})))
        self.assertEqual(1, len(self.blockers({'encryption': {'cipher': (None, 'aes-xts-plain64')}})))

    def test_an_invalid_new_value_is_refused_with_the_key(self):
        for key, value in (('basalt:compression', 'sometimes'), ('basalt:replicas', '4'),
                           ('basalt:replicas', 'two')):
            with self.subTest(key=key, value=value):
                with self.assertRaises(self.exception.InvalidVolumeType) as refused:
                    self.blockers({'extra_specs': {key: ('1', value)}})
                self.assertIn(key, str(refused.exception))


if __name__ == '__main__':
    unittest.main()
