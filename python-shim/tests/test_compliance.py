"""Cinder's driver compliance check, for a driver that lives outside Cinder's tree.

Cinder's own check (cinder/tests/compliance/test_volume_drivers.py, shipped by Debian) needs
oslotest, which Debian's python3-cinder does not pull in, and it only finds drivers under
cinder/volume/drivers. This test makes the same assertions for BasaltDriver: registered by
@interface.volumedriver, found by cinder.interface.util.get_volume_drivers(), a (virtual)
subclass of VolumeDriverCore, with a DriverInfo that reads its options and version.
It also checks the abstract methods of BaseVD are all implemented and that the options are
registered with oslo.config.
"""

import inspect
import unittest

from tests import cinder_support as cs


class ComplianceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cs.require_cinder()

    def test_registered_and_compliant(self):
        from basalt_cinder import driver
        from cinder.interface import util
        from cinder.interface import volume_driver

        drivers = {d.class_fqn: d for d in util.get_volume_drivers()}
        info = drivers.get('basalt_cinder.driver.BasaltDriver')
        self.assertIsNotNone(info, 'BasaltDriver is not registered with @interface.volumedriver')
        self.assertIs(driver.BasaltDriver, info.cls)
        self.assertTrue(issubclass(info.cls, volume_driver.VolumeDriverCore),
                        'BasaltDriver does not conform to minimum volume driver requirements')
        self.assertEqual('1.2.0', info.version)
        self.assertTrue(info.supported)
        self.assertEqual(driver.basalt_opts, info.driver_options)

    def test_interface_methods_are_the_drivers_own(self):
        from basalt_cinder import driver
        from cinder.interface import volume_driver
        from cinder.volume import driver as cinder_driver

        required = [name for name, _ in inspect.getmembers(volume_driver.VolumeDriverCore,
                                                           inspect.isfunction)
                    if not name.startswith('_')]
        own = set(vars(driver.BasaltDriver))
        inherited_ok = {'clone_image', 'copy_image_to_volume', 'copy_volume_to_image'}
        for name in required:
            self.assertTrue(name in own or name in inherited_ok,
                            '%s is not implemented by BasaltDriver' % name)
        abstract = getattr(driver.BasaltDriver, '__abstractmethods__', frozenset())
        self.assertEqual(frozenset(), abstract)
        for name in ('create_snapshot', 'delete_snapshot', 'create_volume_from_snapshot',
                     'create_cloned_volume', 'extend_volume', 'revert_to_snapshot',
                     'create_export', 'ensure_export', 'remove_export'):
            self.assertIsNot(getattr(cinder_driver.VolumeDriver, name),
                             getattr(driver.BasaltDriver, name), name)

    def test_options_registered(self):
        from basalt_cinder import driver
        from cinder.volume import configuration
        from oslo_config import cfg
        names = {o.name for o in driver.basalt_opts}
        self.assertEqual({'basalt_api_addresses', 'basalt_api_token', 'basalt_api_verify_tls',
                          'basalt_api_timeout', 'basalt_default_compression',
                          'basalt_default_replicas'}, names)
        shared = cfg.CONF[configuration.SHARED_CONF_GROUP]
        for name in names:
            self.assertIn(name, shared)
        self.assertTrue([o for o in driver.basalt_opts if o.name == 'basalt_api_token'][0].secret)


if __name__ == '__main__':
    unittest.main()
