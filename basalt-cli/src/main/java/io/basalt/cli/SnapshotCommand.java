package io.basalt.cli;

import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import io.basalt.service.config.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/** {@code basalt snapshot ...}: read-only point-in-time images of volumes. */
@Command(name = "snapshot", description = "Create, list and delete snapshots of volumes.",
        subcommands = {SnapshotCommand.Create.class, SnapshotCommand.ListSnapshots.class, SnapshotCommand.Delete.class})
final class SnapshotCommand extends GroupCommand {

    @Command(name = "create", description = "Take a snapshot of a volume.")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "unique name: 1 to 64 of A-Z a-z 0-9 . _ -")
        String name;

        @Option(names = "--volume", required = true, paramLabel = "VOLUME", description = "ID or name of the volume")
        String volume;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            Snapshot s = api.createSnapshot(new CreateSnapshotRequest(name, api.findVolume(volume).id()));
            if (!out.printedAsJson(s)) {
                table(List.of(s), out);
            }
        }
    }

    @Command(name = "list", description = "List the snapshots.")
    static final class ListSnapshots extends ApiCommand {
        @Option(names = "--volume", paramLabel = "VOLUME", description = "only those of this volume (ID or name)")
        String volume;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            List<Snapshot> snapshots = api.snapshots();
            if (volume != null) {
                String id = api.findVolume(volume).id();
                snapshots = snapshots.stream().filter(s -> id.equals(s.sourceVolumeId())).toList();
            }
            if (!out.printedAsJson(snapshots)) {
                table(snapshots, out);
            }
        }
    }

    @Command(name = "delete", description = "Delete snapshots (volumes created from them stay).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "SNAPSHOT", arity = "1..*", description = "IDs or names")
        List<String> snapshots;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            for (String idOrName : snapshots) {
                Snapshot s = api.findSnapshot(idOrName);
                api.deleteSnapshot(s.id());
                if (!out.json()) {
                    out.line("deleted snapshot " + s.name() + " (" + s.id() + ")");
                }
            }
        }
    }

    private static void table(List<Snapshot> snapshots, Output out) {
        List<List<String>> rows = new ArrayList<>();
        for (Snapshot s : snapshots) {
            rows.add(List.of(s.id(), s.name(), s.sourceVolumeId(), ByteSize.format(s.sizeBytes()),
                    s.space() == null ? "0B" : ByteSize.format(s.space().storedBytes()), String.valueOf(s.createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))));
        }
        out.table(List.of("ID", "NAME", "VOLUME", "SIZE", "STORED", "CREATED"), rows);
    }
}
