package io.basalt.cli;

import io.basalt.bridge.client.ApiOptions;
import io.basalt.bridge.client.VolumeApiException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.net.URI;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code basalt token ...}: API tokens for operators and scripts. */
@Command(name = "token", description = "Generate API tokens; export the API's address and token to a shell.",
        subcommands = {TokenCommand.Generate.class, TokenCommand.Env.class})
final class TokenCommand extends GroupCommand {

    @Command(name = "generate", description = {"Print a new random token, e.g. for api.admin-token or api.project-tokens.",
            "The node generates its admin token itself when none is configured."})
    static final class Generate implements Callable<Integer> {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
        private boolean help;

        @Spec
        private CommandSpec spec;

        @Override
        public Integer call() {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            spec.commandLine().getOut().println(HexFormat.of().formatHex(secret));
            return 0;
        }
    }

    @Command(name = "env", description = {"Print shell exports of BASALT_API_URL and BASALT_API_TOKEN, as this command",
            "finds them, for other tools and shells: eval \"$(bin/basalt token env)\""})
    static final class Env implements Callable<Integer> {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
        private boolean help;

        @Mixin
        private ApiOptions api;

        @Spec
        private CommandSpec spec;

        @Override
        public Integer call() {
            try {
                String token = api.token();
                String urls = api.urls().stream().map(URI::toString).collect(Collectors.joining(","));
                spec.commandLine().getOut().println("export BASALT_API_URL=" + shellQuoted(urls));
                if (token != null) {
                    spec.commandLine().getOut().println("export BASALT_API_TOKEN=" + shellQuoted(token));
                }
                return 0;
            } catch (VolumeApiException e) {
                spec.commandLine().getErr().println("basalt: " + e.getMessage());
                return ApiCommand.EXIT_NODE_ERROR;
            }
        }

        private static String shellQuoted(String value) {
            return "'" + value.replace("'", "'\\''") + "'";
        }
    }
}
