package io.basalt.service.volume;

import io.basalt.nvmetcp.nvmet.IoObserver;

/** Hands out the I/O observer of each volume (metrics), and is told when a volume goes away. */
public interface VolumeObservers {
    VolumeObservers NONE = new VolumeObservers() {
        @Override
        public IoObserver observerFor(String volumeId, String volumeName) {
            return IoObserver.NONE;
        }

        @Override
        public void volumeDeleted(String volumeId) {
        }
    };

    IoObserver observerFor(String volumeId, String volumeName);

    void volumeDeleted(String volumeId);
}
