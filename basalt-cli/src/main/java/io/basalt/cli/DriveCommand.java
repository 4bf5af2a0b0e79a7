package io.basalt.cli;

import io.basalt.bridge.api.DriveList;
import io.basalt.bridge.api.NodeDrive;
import io.basalt.bridge.api.RebuildStatus;
import io.basalt.bridge.api.ScrubReport;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import io.basalt.service.config.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code basalt drive ...}: the node's drives (see docs/operations.md, "Replacing a drive"). */
@Command(name = "drive", description = "The node's drives: their state, and replacing a failed one.",
        subcommands = {DriveCommand.ListDrives.class, DriveCommand.Replace.class})
final class DriveCommand extends GroupCommand {
    /** How often the rebuild's progress is asked for while following it. */
    private static final long POLL_MILLIS = 1000;

    @Command(name = "list", description = "Every drive with its state (ok, failed, rebuilding), size and path, the rebuild and the scrub.")
    static final class ListDrives extends ApiCommand {
        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            DriveList list = api.drives();
            if (out.printedAsJson(list)) {
                return;
            }
            List<List<String>> rows = new ArrayList<>();
            for (NodeDrive d : list.drives()) {
                rows.add(List.of(Integer.toString(d.index()), d.state(), ByteSize.format(d.sizeBytes()), d.path(),
                        d.reason() == null ? "" : d.reason()));
            }
            out.table(List.of("DRIVE", "STATE", "SIZE", "PATH", "REASON"), rows);
            out.line("erasure code " + list.erasureCode());
            if (list.rebuild() != null) {
                out.line(describe(list.rebuild()));
            }
            out.line(describe(list.scrub()));
        }
    }

    @Command(name = "replace", description = "Replace a failed drive by a blank one (or a new file) and rebuild it; "
            + "follows the rebuild with a progress bar until it is done.")
    static final class Replace extends ApiCommand {
        @Option(names = "--drive", required = true, paramLabel = "N", description = "the failed drive's number (drive list)")
        int drive;

        @Option(names = "--with", required = true, paramLabel = "PATH",
                description = "absolute path on the node of a blank block device or file, or where a file is to be created")
        String path;

        @Option(names = "--no-wait", description = "return once the rebuild has started")
        boolean noWait;

        @Spec
        CommandSpec spec;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            DriveList started = api.replaceDrive(drive, path);
            RebuildStatus rebuild = noWait ? started.rebuild() : follow(api, started.rebuild());
            if (out.printedAsJson(noWait ? started : api.drives())) {
                failIfStopped(rebuild);
                return;
            }
            failIfStopped(rebuild);
            out.line(noWait ? "drive " + drive + " replaced by " + path + "; " + describe(rebuild)
                    : "drive " + drive + " replaced by " + path + " and rebuilt");
        }

        private RebuildStatus follow(VolumeApiClient api, RebuildStatus first) throws VolumeApiException {
            RebuildStatus rebuild = first;
            try (Progress progress = Progress.onStderr(spec.commandLine().getErr(), "rebuilding drive " + drive,
                    first.totalBytes())) {
                while (rebuild.running()) {
                    progress.update(rebuild.doneBytes());
                    try {
                        Thread.sleep(POLL_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new VolumeApiException(0, "interrupted; the rebuild goes on in the node", e);
                    }
                    rebuild = api.drives().rebuild();
                }
                progress.update(rebuild.doneBytes());
            }
            return rebuild;
        }

        private void failIfStopped(RebuildStatus rebuild) throws VolumeApiException {
            if (rebuild != null && rebuild.error() != null) {
                throw new VolumeApiException(0, "the rebuild of drive " + drive + " stopped: " + rebuild.error(), null);
            }
        }
    }

    /** One line: off, or its rate, passes, bytes checked, repairs and the segments the last pass could not repair. */
    static String describe(ScrubReport scrub) {
        if (!scrub.running() && scrub.passes() == 0) {
            return "scrub: off (engine.scrub-bytes-per-second)";
        }
        return String.format(Locale.ROOT, "scrub: %s, %d passes, %s checked, %d chunks (%s) repaired, %s", scrub.running()
                        ? "at most " + ByteSize.format(scrub.bytesPerSecond()) + "/s" : "stopped", scrub.passes(),
                ByteSize.format(scrub.scannedBytes()), scrub.repairedChunks(), ByteSize.format(scrub.repairedBytes()),
                scrub.unrepairableSegments().isEmpty() ? "nothing beyond repair in the last pass"
                        : "beyond repair in the last pass: segments " + scrub.unrepairableSegments());
    }

    static String describe(RebuildStatus rebuild) {
        String state = rebuild.error() != null ? "stopped: " + rebuild.error()
                : rebuild.running() ? "running" + (rebuild.etaSeconds() < 0 ? "" : ", about " + rebuild.etaSeconds() + " s left")
                : "done";
        return String.format(Locale.ROOT, "rebuild of drive %d: %.1f%% (%s of %s, %s/s), %s", rebuild.drive(),
                rebuild.percent(), ByteSize.format(rebuild.doneBytes()), ByteSize.format(rebuild.totalBytes()),
                ByteSize.format(rebuild.bytesPerSecond()), state);
    }
}
