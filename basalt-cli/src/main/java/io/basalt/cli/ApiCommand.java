package io.basalt.cli;

import io.basalt.bridge.client.ApiOptions;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.client.VolumeApiException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * A command that calls the volume API: the API's address and token, {@code --json}, and the exit
 * status every such command shares (0 done, 1 the node refused or could not be reached, with its
 * message on stderr; usage mistakes are picocli's 2).
 */
abstract class ApiCommand implements Callable<Integer> {
    static final int EXIT_NODE_ERROR = 1;
    /** Bounds each request; a volume delete may free many blocks, so this is not a few seconds. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(10);

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    private boolean help;

    @Option(names = "--json", description = "print the API's JSON instead of a table, for scripts")
    boolean json;

    @Mixin
    private ApiOptions api;

    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() {
        Output out = new Output(spec.commandLine().getOut(), json);
        try {
            beforeConnecting(api);
            run(api.client(REQUEST_TIMEOUT), out);
            return 0;
        } catch (VolumeApiException e) {
            spec.commandLine().getErr().println("basalt: " + e.getMessage());
            return EXIT_NODE_ERROR;
        } finally {
            out.flush();
        }
    }

    /** Runs before the token is looked up (a node that is starting may not have written it yet). */
    void beforeConnecting(ApiOptions api) throws VolumeApiException {
    }

    abstract void run(VolumeApiClient api, Output out) throws VolumeApiException;
}
