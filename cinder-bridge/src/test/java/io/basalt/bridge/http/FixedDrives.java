package io.basalt.bridge.http;

import io.basalt.bridge.DriveNotFoundException;
import io.basalt.bridge.DriveService;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.api.DriveList;
import io.basalt.bridge.api.NodeDrive;
import io.basalt.bridge.api.RebuildStatus;
import io.basalt.bridge.api.ScrubReport;

import java.util.ArrayList;
import java.util.List;

/** The drives of a 4+2 node whose drive 2 failed, for the API's tests; a replacement starts a rebuild. */
final class FixedDrives implements DriveService {
    static final long SIZE = 1L << 30;
    /** Two passes, one chunk repaired, segment 7 beyond repair in the last. */
    static final ScrubReport SCRUB = new ScrubReport(true, 32L << 20, 2, 3L << 30, 1, 4096, 1, List.of(7));
    private final List<NodeDrive> drives = new ArrayList<>();
    private RebuildStatus rebuild;

    FixedDrives() {
        reset();
    }

    synchronized void reset() {
        drives.clear();
        for (int i = 0; i < 6; i++) {
            drives.add(new NodeDrive(i, "/dev/disk" + i, SIZE, i == 2 ? NodeDrive.FAILED : NodeDrive.OK,
                    i == 2 ? "read error: Input/output error" : null));
        }
        rebuild = null;
    }

    @Override
    public synchronized DriveList drives() {
        return new DriveList("4+2", drives, rebuild, SCRUB);
    }

    @Override
    public synchronized DriveList replace(int index, String path) {
        if (index >= drives.size()) {
            throw new DriveNotFoundException(index);
        }
        if (!drives.get(index).state().equals(NodeDrive.FAILED)) {
            throw new VolumeConflictException("index", "drive " + index + " is ok; only a failed drive is replaced");
        }
        if (path.endsWith("busy")) {
            throw new InvalidVolumeRequestException("path", "drive " + path + " is not blank");
        }
        drives.set(index, new NodeDrive(index, path, SIZE, NodeDrive.REBUILDING, null));
        rebuild = new RebuildStatus(index, true, 0.0, 0, SIZE, 0, -1, null);
        return drives();
    }
}
