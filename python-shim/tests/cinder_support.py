"""Helpers for tests that need Cinder (Debian's python3-cinder, under /usr/bin/python3)."""

import os
import unittest
import uuid

from tests.fake_basalt import FakeBasalt

try:
    from cinder import context
    from cinder import objects
    from cinder.volume import configuration
    from oslo_config import cfg
    objects.register_all()
    HAVE_CINDER = True
except ImportError:  # not Debian's Python, or python3-cinder missing
    HAVE_CINDER = False


def require_cinder():
    if not HAVE_CINDER:
        raise unittest.SkipTest('cinder is not importable (run with /usr/bin/python3)')


def new_driver(url, token, group=None, **overrides):
    """A BasaltDriver on its own backend section, set up (do_setup) against url."""
    from basalt_cinder import driver
    from cinder.volume import driver as cinder_driver
    group = group or 'basalt-test-' + uuid.uuid4().hex[:8]
    conf = configuration.Configuration(cinder_driver.volume_opts, config_group=group)
    conf.append_config_values(driver.basalt_opts)
    settings = {'basalt_api_addresses': url if isinstance(url, list) else [url],
                'basalt_api_token': token, 'basalt_api_timeout': 10,
                'volume_backend_name': 'basalt-test'}
    settings.update(overrides)
    for key, value in settings.items():
        cfg.CONF.set_override(key, value, group=group)
    drv = driver.BasaltDriver(configuration=conf, host='test-host@' + group)
    drv.do_setup(context.get_admin_context())
    return drv


def new_volume(project, size=1, type_id=None, **fields):
    values = dict(id=str(uuid.uuid4()), _name_id=None, size=size, project_id=project,
                  volume_type_id=type_id, provider_id=None, provider_location=None,
                  display_name='test', volume_attachment=objects.VolumeAttachmentList(objects=[]))
    values.update(fields)
    return objects.Volume(context.get_admin_context(), **values)


def attach(volume, host_nqn, status='attached'):
    """Records an attachment of volume from host_nqn, as Cinder lists it in volume.volume_attachment."""
    attachment = objects.VolumeAttachment(context.get_admin_context(), id=str(uuid.uuid4()),
                                          volume_id=volume.id, attach_status=status,
                                          connector={'nqn': host_nqn, 'host': 'compute'})
    volume.volume_attachment.objects.append(attachment)
    return attachment


def new_snapshot(volume, project=None):
    snap = objects.Snapshot(context.get_admin_context(), id=str(uuid.uuid4()),
                            volume_id=volume.id, project_id=project or volume.project_id,
                            volume_size=volume.size, provider_id=None, provider_location=None)
    snap.volume = volume
    return snap


def apply(obj, model_update):
    """What Cinder's manager does with a driver's model update."""
    if model_update:
        obj.update(model_update)
    return obj


class LiveNode:
    """Mixed in before a contract's tests: they run against the node BASALT_API_URL and
    BASALT_API_TOKEN name (test-live.sh starts one), or are skipped."""

    @classmethod
    def setUpClass(cls):
        cls.url = os.environ.get('BASALT_API_URL')
        cls.token = os.environ.get('BASALT_API_TOKEN')
        if not cls.url:
            raise unittest.SkipTest('BASALT_API_URL names no running node')
        super().setUpClass()


class FakeNode:
    """Mixed in before a contract's tests: they run against tests/fake_basalt.py."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeBasalt(token='fake-admin')
        cls.fake.__enter__()
        cls.addClassCleanup(cls.fake.__exit__, None, None, None)
        cls.url = cls.fake.url
        cls.token = cls.fake.token
        super().setUpClass()
