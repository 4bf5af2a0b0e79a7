package io.basalt.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.client.ApiOptions;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import io.basalt.service.config.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/** {@code basalt node ...}: the node as a whole. */
@Command(name = "node", description = "The node's state.", subcommands = NodeCommand.Status.class)
final class NodeCommand extends GroupCommand {

    /** What {@code node status --json} prints: the API's stats and the NVMe/TCP gauges of /metrics. */
    record NodeStatus(@JsonUnwrapped NodeStats stats, long nvmeConnections, long nvmeControllers) {
    }

    @Command(name = "status", description = "Capacity, space used, compression, write amplification, volumes and connected hosts.")
    static final class Status extends ApiCommand {
        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "0",
                description = "wait up to this long for a node that is starting to answer (default: ${DEFAULT-VALUE})")
        int waitSeconds;

        @Override
        void beforeConnecting(ApiOptions options) throws VolumeApiException {
            long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
            while (true) {
                try {
                    new VolumeApiClient(options.answeringUrl(), null, Duration.ofSeconds(5)).health();
                    return;
                } catch (VolumeApiException e) {
                    // only "no answer" is worth waiting for: a node that answers with an error is up and says why
                    if (e.status() != 0 || System.nanoTime() - deadline >= 0) {
                        throw e;
                    }
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VolumeApiException(0, "interrupted while waiting for the node", e);
                }
            }
        }

        @Override
        void run(VolumeApiClient api, Output out) throws VolumeApiException {
            NodeStats stats = api.stats();
            String metrics = api.metrics();
            NodeStatus status = new NodeStatus(stats, gauge(metrics, "basalt_nvme_connections").orElse(0),
                    gauge(metrics, "basalt_nvme_controllers").orElse(0));
            if (out.printedAsJson(status)) {
                return;
            }
            List<String[]> fields = new ArrayList<>(List.of(
                    new String[]{"api", api.base().toString()},
                    new String[]{"engine", stats.engineFailure() == null ? "ok"
                            : "FAILED, acknowledging no writes until restarted: " + stats.engineFailure()},
                    new String[]{"erasure code", stats.erasureCode() + " (raw " + ByteSize.format(stats.rawBytes())
                            + " of drives, parity included)"},
                    new String[]{"failed drives", stats.failedDrives().isEmpty() ? "none"
                            : String.join("; ", stats.failedDrives().stream()
                            .map(d -> d.index() + " (" + d.path() + "): " + d.reason()).toList())},
                    new String[]{"capacity", ByteSize.format(stats.totalBytes())},
                    new String[]{"used", ByteSize.format(stats.usedBytes()) + percent(stats.usedBytes(), stats.totalBytes())},
                    new String[]{"free", ByteSize.format(stats.freeBytes())},
                    new String[]{"provisioned", ByteSize.format(stats.provisionedBytes()) + " (up to "
                            + format(stats.maxOversubscriptionRatio()) + "x capacity)"},
                    new String[]{"compression ratio", format(stats.compressionRatio())},
                    new String[]{"write amplification", format(stats.writeAmplification())},
                    new String[]{"volumes", Integer.toString(stats.volumes())},
                    new String[]{"snapshots", Integer.toString(stats.snapshots())},
                    new String[]{"connected hosts", status.nvmeControllers() + " controllers over "
                            + status.nvmeConnections() + " NVMe/TCP connections"}));
            if (stats.rebuild() != null) {
                fields.add(3, new String[]{"rebuild", DriveCommand.describe(stats.rebuild())});
            }
            out.fields(fields);
        }
    }

    /** The value of an unlabelled gauge in Prometheus text. */
    static OptionalLong gauge(String metrics, String name) {
        return metrics.lines().filter(line -> line.startsWith(name + " "))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(name.length() + 1).strip()))
                .findFirst();
    }

    private static String format(double ratio) {
        return String.format(Locale.ROOT, "%.2f", ratio);
    }

    private static String percent(long part, long whole) {
        return whole == 0 ? "" : String.format(Locale.ROOT, " (%.1f%%)", 100.0 * part / whole);
    }
}
