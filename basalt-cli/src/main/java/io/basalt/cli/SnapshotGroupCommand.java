package io.basalt.cli;

import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** {@code basalt snapshot-group ...}: snapshots of several volumes taken at one instant. */
@Command(name = "snapshot-group", description = "Snapshot several volumes at one instant (crash-consistent).",
        subcommands = {SnapshotGroupCommand.Create.class, SnapshotGroupCommand.ListGroups.class,
                SnapshotGroupCommand.Show.class, SnapshotGroupCommand.Delete.class})
final class SnapshotGroupCommand extends GroupCommand {

    @Command(name = "create", description = "Snapshot the volumes at one instant; the members are called NAME.<n>.")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "unique name: 1 to 61 of A-Z a-z 0-9 . _ -")
        String name;

        @Option(names = "--volume", required = true, paramLabel = "VOLUME",
                description = "ID or name of a volume; repeat for each (1 to 64)")
        List<String> volumes;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            List<String> ids = new ArrayList<>();
            for (String volume : volumes) {
                ids.add(api.findVolume(volume).id());
            }
            SnapshotGroup group = api.createSnapshotGroup(new CreateSnapshotGroupRequest(name, ids));
            if (!out.printedAsJson(group)) {
                members(group, out);
            }
        }
    }

    @Command(name = "list", description = "List the snapshot groups.")
    static final class ListGroups extends ApiCommand {
        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            List<SnapshotGroup> groups = api.snapshotGroups();
            if (!out.printedAsJson(groups)) {
                List<List<String>> rows = new ArrayList<>();
                for (SnapshotGroup g : groups) {
                    rows.add(List.of(g.id(), g.name(), String.valueOf(g.snapshots().size()),
                            String.valueOf(g.createdAt().truncatedTo(ChronoUnit.SECONDS))));
                }
                out.table(List.of("ID", "NAME", "SNAPSHOTS", "CREATED"), rows);
            }
        }
    }

    @Command(name = "show", description = "Show a snapshot group's member snapshots.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "GROUP", description = "ID or name")
        String group;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            SnapshotGroup found = api.findSnapshotGroup(group);
            if (!out.printedAsJson(found)) {
                members(found, out);
            }
        }
    }

    @Command(name = "delete", description = "Delete snapshot groups and their snapshots (volumes made from them stay).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "GROUP", arity = "1..*", description = "IDs or names")
        List<String> groups;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            for (String idOrName : groups) {
                SnapshotGroup g = api.findSnapshotGroup(idOrName);
                api.deleteSnapshotGroup(g.id());
                if (!out.json()) {
                    out.line("deleted snapshot group " + g.name() + " (" + g.id() + ") and its "
                            + g.snapshots().size() + " snapshots");
                }
            }
        }
    }

    private static void members(SnapshotGroup group, Output out) {
        out.line("snapshot group " + group.name() + " (" + group.id() + "), taken "
                + group.createdAt().truncatedTo(ChronoUnit.SECONDS));
        List<List<String>> rows = new ArrayList<>();
        for (Snapshot s : group.snapshots()) {
            rows.add(List.of(s.id(), s.name(), s.sourceVolumeId()));
        }
        out.table(List.of("SNAPSHOT", "NAME", "VOLUME"), rows);
    }
}
