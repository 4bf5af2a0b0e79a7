package io.basalt.cli;

import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.SpaceUsage;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import io.basalt.service.config.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@code basalt volume ...}: the volume API's volume routes. A volume is named by its ID or its name. */
@Command(name = "volume", description = "Create, list, show, extend, update, delete and revert volumes; manage"
        + " their hosts and QoS limits.",
        subcommands = {VolumeCommand.Create.class, VolumeCommand.ListVolumes.class, VolumeCommand.Show.class,
                VolumeCommand.Extend.class, VolumeCommand.Update.class, VolumeCommand.Delete.class, VolumeCommand.Hosts.class,
                VolumeCommand.Revert.class, VolumeCommand.SetQos.class})
final class VolumeCommand extends GroupCommand {

    @Command(name = "create", description = "Create a volume, empty or from a snapshot or another volume.")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "unique name: 1 to 64 of A-Z a-z 0-9 . _ -")
        String name;

        @Option(names = "--size", paramLabel = "SIZE", converter = Sizes.class,
                description = "capacity, e.g. 10GiB or 512MiB (with --from-*: default the source's size)")
        Long size;

        @Option(names = "--host", paramLabel = "NQN", description = "a host NQN allowed to connect; repeatable")
        List<String> hosts = new ArrayList<>();

        @Option(names = "--compression", negatable = true,
                description = "LZ4-compress the volume's blocks (default: the node's volume.compression)")
        Boolean compression;

        @Option(names = "--from-snapshot", paramLabel = "SNAPSHOT", description = "start with a snapshot's content")
        String fromSnapshot;

        @Option(names = "--from-volume", paramLabel = "VOLUME", description = "start with a copy of another volume")
        String fromVolume;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            if (size == null && fromSnapshot == null && fromVolume == null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--size is required for an empty volume");
            }
            String snapshotId = fromSnapshot == null ? null : api.findSnapshot(fromSnapshot).id();
            String volumeId = fromVolume == null ? null : api.findVolume(fromVolume).id();
            Volume created = api.createVolume(new CreateVolumeRequest(name, size == null ? 0 : size, hosts, compression,
                    null, snapshotId, volumeId));
            show(created, out);
        }
    }

    @Command(name = "list", description = "List the volumes.")
    static final class ListVolumes extends ApiCommand {
        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            List<Volume> volumes = api.volumes();
            if (out.printedAsJson(volumes)) {
                return;
            }
            List<List<String>> rows = new ArrayList<>();
            for (Volume v : volumes) {
                SpaceUsage space = space(v);
                rows.add(List.of(v.id(), v.name(), ByteSize.format(v.sizeBytes()), ByteSize.format(space.mappedBytes()),
                        ByteSize.format(space.storedBytes()), Integer.toString(v.hosts().size())));
            }
            out.table(List.of("ID", "NAME", "SIZE", "WRITTEN", "STORED", "HOSTS"), rows);
        }
    }

    @Command(name = "show", description = "Show a volume: how hosts connect to it and the space it uses.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "VOLUME", description = "ID or name")
        String volume;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            show(api.findVolume(volume), out);
        }
    }

    @Command(name = "extend", description = "Grow a volume; hosts see the new size at once.")
    static final class Extend extends ApiCommand {
        @Parameters(paramLabel = "VOLUME", description = "ID or name")
        String volume;

        @Option(names = "--size", required = true, paramLabel = "SIZE", converter = Sizes.class,
                description = "the new capacity, e.g. 20GiB")
        long size;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            show(api.extendVolume(api.findVolume(volume).id(), size), out);
        }
    }

    @Command(name = "update", description = "Rename a volume or switch its compression (for blocks written from now on).")
    static final class Update extends ApiCommand {
        @Parameters(paramLabel = "VOLUME", description = "ID or name")
        String volume;

        @Option(names = "--name", paramLabel = "NAME", description = "the new name, unique among the volumes")
        String name;

        @Option(names = "--compression", negatable = true,
                description = "LZ4-compress the blocks written from now on (or, with --no-compression, not)")
        Boolean compression;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            if (name == null && compression == null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "give --name or --[no-]compression");
            }
            show(api.updateVolume(api.findVolume(volume).id(), new UpdateVolumeRequest(name, compression)), out);
        }
    }

    @Command(name = "delete", description = "Delete volumes and free their space (their snapshots stay).")
    static final class Delete extends ApiCommand {
        /** Below this a delete takes no noticeable time: progress only on a terminal, no lines in a script's log. */
        static final long PLAIN_PROGRESS_THRESHOLD_BYTES = 256L << 20;

        @Parameters(paramLabel = "VOLUME", arity = "1..*", description = "IDs or names")
        List<String> volumes;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            for (String idOrName : volumes) {
                Volume v = api.findVolume(idOrName);
                long toFree = space(v).exclusiveBytes();
                if (out.json() || (toFree < PLAIN_PROGRESS_THRESHOLD_BYTES && !Progress.onTerminal())) {
                    api.deleteVolume(v.id());
                } else {
                    deleteShowingProgress(api, v, toFree);
                }
                if (!out.json()) {
                    out.line("deleted volume " + v.name() + " (" + v.id() + ")");
                }
            }
        }

        /** The node frees the volume's blocks within the one request; its used space shows how far it got. */
        private void deleteShowingProgress(VolumeApiClient api, Volume v, long toFree) throws VolumeApiException {
            long usedBefore = api.stats().usedBytes();
            CompletableFuture<Void> deletion = CompletableFuture.runAsync(() -> {
                try {
                    api.deleteVolume(v.id());
                } catch (VolumeApiException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            try (Progress progress = Progress.onStderr(spec.commandLine().getErr(), "deleting " + v.name(), toFree)) {
                while (!awaitDone(deletion)) {
                    try {
                        progress.update(usedBefore - api.stats().usedBytes());
                    } catch (VolumeApiException e) {
                        // the node is busy deleting: the bar waits for the next poll
                    }
                }
                progress.update(toFree);
            }
        }

        private static boolean awaitDone(CompletableFuture<Void> deletion) throws VolumeApiException {
            try {
                deletion.get(500, TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                return false;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof VolumeApiException apiError) {
                    throw apiError;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VolumeApiException(0, "interrupted while the node deletes the volume", e);
            }
        }
    }

    @Command(name = "hosts", description = "Add hosts to a volume's ACL or remove them.",
            subcommands = {Hosts.Add.class, Hosts.Remove.class})
    static final class Hosts extends GroupCommand {
        /** A change of one host on one volume's ACL. */
        abstract static class HostChange extends ApiCommand {
            @Parameters(index = "0", paramLabel = "VOLUME", description = "ID or name")
            String volume;

            @Parameters(index = "1", paramLabel = "NQN", description = "the host's NQN (its /etc/nvme/hostnqn)")
            String host;
        }

        @Command(name = "add", description = "Allow a host to connect to the volume (no change if it may already).")
        static final class Add extends HostChange {
            @Override
            void run(VolumeApiClient api, Output out) throws VolumeApiException {
                show(api.allowHost(api.findVolume(volume).id(), host), out);
            }
        }

        @Command(name = "remove", description = "Stop allowing a host to connect to the volume (no change if it was not allowed).")
        static final class Remove extends HostChange {
            @Override
            void run(VolumeApiClient api, Output out) throws VolumeApiException {
                show(api.denyHost(api.findVolume(volume).id(), host), out);
            }
        }
    }

    @Command(name = "revert", description = "Bring a volume's content back to one of its snapshots.")
    static final class Revert extends ApiCommand {
        @Parameters(paramLabel = "VOLUME", description = "ID or name")
        String volume;

        @Option(names = "--snapshot", required = true, paramLabel = "SNAPSHOT", description = "ID or name of the snapshot")
        String snapshot;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            show(api.revert(api.findVolume(volume).id(), api.findSnapshot(snapshot).id()), out);
        }
    }

    @Command(name = "qos", description = "Replace a volume's I/O limits, for all its hosts together; a limit not"
            + " given is none, so no option at all removes every limit.")
    static final class SetQos extends ApiCommand {
        @Parameters(paramLabel = "VOLUME", description = "ID or name")
        String volume;

        @Option(names = "--total-iops", paramLabel = "N", description = "commands per second, reads and writes")
        long totalIops;

        @Option(names = "--read-iops", paramLabel = "N", description = "read commands per second")
        long readIops;

        @Option(names = "--write-iops", paramLabel = "N", description = "write commands per second")
        long writeIops;

        @Option(names = "--total-bandwidth", paramLabel = "SIZE", converter = Sizes.class,
                description = "bytes per second, read and written, e.g. 100MiB")
        long totalBytesPerSec;

        @Option(names = "--read-bandwidth", paramLabel = "SIZE", converter = Sizes.class,
                description = "bytes read per second")
        long readBytesPerSec;

        @Option(names = "--write-bandwidth", paramLabel = "SIZE", converter = Sizes.class,
                description = "bytes written per second")
        long writeBytesPerSec;

        @Option(names = "--burst-seconds", paramLabel = "N",
                description = "seconds' worth of each limit an idle volume may spend at full speed (0 to 3600)")
        int burstSeconds;

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            show(api.setQos(api.findVolume(volume).id(), new Qos(totalIops, readIops, writeIops, totalBytesPerSec,
                    readBytesPerSec, writeBytesPerSec, burstSeconds)), out);
        }
    }

    /** "total 100MiB/s, read 500 IOPS, burst 5 s", or "none". */
    private static String describe(Qos qos) {
        List<String> limits = new ArrayList<>();
        String[] names = {"total", "read", "write"};
        long[] iops = {qos.totalIops(), qos.readIops(), qos.writeIops()};
        long[] bytes = {qos.totalBytesPerSec(), qos.readBytesPerSec(), qos.writeBytesPerSec()};
        for (int i = 0; i < names.length; i++) {
            if (iops[i] > 0) {
                limits.add(names[i] + " " + iops[i] + " IOPS");
            }
            if (bytes[i] > 0) {
                limits.add(names[i] + " " + ByteSize.format(bytes[i]) + "/s");
            }
        }
        if (limits.isEmpty()) {
            return "none";
        }
        if (qos.burstSeconds() > 0) {
            limits.add("burst " + qos.burstSeconds() + " s");
        }
        return String.join(", ", limits);
    }

    private static SpaceUsage space(Volume v) {
        return v.space() == null ? SpaceUsage.EMPTY : v.space();
    }

    static void show(Volume v, Output out) {
        if (out.printedAsJson(v)) {
            return;
        }
        SpaceUsage space = space(v);
        List<String[]> fields = new ArrayList<>();
        fields.add(new String[]{"id", v.id()});
        fields.add(new String[]{"name", v.name()});
        fields.add(new String[]{"project", v.project()});
        fields.add(new String[]{"size", ByteSize.format(v.sizeBytes())});
        fields.add(new String[]{"compression", v.compression() ? "on" : "off"});
        fields.add(new String[]{"nqn", v.nqn()});
        fields.add(new String[]{"namespace", v.nsid() + " (uuid " + v.uuid() + ")"});
        fields.add(new String[]{"hosts", v.hosts().isEmpty() ? "none" : String.join(", ", v.hosts())});
        fields.add(new String[]{"qos", describe(v.qos())});
        if (v.sourceSnapshotId() != null) {
            fields.add(new String[]{"from snapshot", v.sourceSnapshotId()});
        }
        if (v.sourceVolumeId() != null) {
            fields.add(new String[]{"from volume", v.sourceVolumeId()});
        }
        fields.add(new String[]{"space", ByteSize.format(space.mappedBytes()) + " written, "
                + ByteSize.format(space.storedBytes()) + " stored (" + ByteSize.format(space.exclusiveBytes())
                + " its own, " + ByteSize.format(space.sharedBytes()) + " shared)"});
        for (Portal p : v.portals()) {
            fields.add(new String[]{"connect", "nvme connect -t " + p.transport() + " -a " + p.address() + " -s " + p.port()
                    + " -n " + v.nqn()});
        }
        out.fields(fields);
    }
}
