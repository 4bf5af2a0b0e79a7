package io.basalt.service.volume;

import io.basalt.bridge.DriveNotFoundException;
import io.basalt.bridge.DriveService;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.api.DriveList;
import io.basalt.bridge.api.NodeDrive;
import io.basalt.bridge.api.RebuildStatus;
import io.basalt.bridge.api.ScrubReport;
import io.basalt.service.engine.Engine;
import io.basalt.service.engine.ScrubStatus;
import io.basalt.service.engine.drive.DriveFormatException;
import io.basalt.service.engine.drive.DriveRebuild;
import io.basalt.service.engine.drive.DriveSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** The node's drives as the API shows them, and their replacement; see docs/operations.md, "Replacing a drive". */
public final class NodeDrives implements DriveService {
    private final Engine engine;

    public NodeDrives(Engine engine) {
        this.engine = engine;
    }

    @Override
    public DriveList drives() {
        return new DriveList(engine.erasureCode().toString(), engine.driveStates().stream().map(NodeDrives::drive).toList(),
                rebuild(engine), scrub(engine.scrubStatus()));
    }

    @Override
    public DriveList replace(int index, String path) {
        if (index >= engine.driveStates().size()) {
            throw new DriveNotFoundException(index);
        }
        try {
            engine.replaceDrive(index, Path.of(path));
        } catch (IllegalStateException e) {
            throw new VolumeConflictException("index", e.getMessage());
        } catch (DriveFormatException | IllegalArgumentException e) {
            throw new InvalidVolumeRequestException("path", e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("replacing drive " + index + " by " + path, e);
        }
        return drives();
    }

    /** The failed drives, for the node's stats. */
    static List<NodeDrive> failed(Engine engine) {
        return engine.driveStates().stream().filter(d -> d.condition() == DriveSet.DriveCondition.FAILED)
                .map(NodeDrives::drive).toList();
    }

    /** The running or last rebuild, null if none ran since the start. */
    static RebuildStatus rebuild(Engine engine) {
        return engine.rebuildProgress().map(NodeDrives::rebuild).orElse(null);
    }

    private static RebuildStatus rebuild(DriveRebuild.Progress progress) {
        return new RebuildStatus(progress.drive(), progress.running(), Math.floor(progress.percent() * 10) / 10,
                progress.doneBytes(), progress.totalBytes(), progress.bytesPerSecond(), progress.etaSeconds(),
                progress.error());
    }

    /** The engine's scrub status as the API shows it: the rate only while the scrub runs. */
    static ScrubReport scrub(ScrubStatus status) {
        return new ScrubReport(status.running(), status.running() ? status.bytesPerSecond() : 0, status.passes(),
                status.scannedBytes(), status.repairedChunks(), status.repairedBytes(), status.unrepairableFound(),
                status.unrepairableSegments());
    }

    private static NodeDrive drive(DriveSet.DriveState state) {
        return new NodeDrive(state.index(), state.path().toString(), state.bytes(), state.condition().label(),
                state.reason());
    }
}
