package io.basalt.bridge.client;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where the volume API is and the token to call it with, the same for every command that calls it.
 * The token comes from a file, the environment or the local node's data directory, never from an
 * argument, because arguments are visible to every user of the machine in the process list.
 */
public final class ApiOptions {
    /** What {@code bin/basalt serve} generates and reads back in its data directory. */
    public static final String ADMIN_TOKEN_FILE = "api-admin-token";
    static final String URL_VARIABLE = "BASALT_API_URL";
    static final String TOKEN_VARIABLE = "BASALT_API_TOKEN";

    /** How long an address is given to answer when there are several to choose from. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

    @Option(names = "--api", paramLabel = "URL", split = ",", defaultValue = "${env:" + URL_VARIABLE + ":-http://127.0.0.1:8470}",
            description = "the volume API of a node; several, comma separated or repeated (nodes of one cluster):"
                    + " the first that answers is used (default: $" + URL_VARIABLE + ", else http://127.0.0.1:8470)")
    private List<URI> urls;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "a file holding the API's bearer token (default: $" + TOKEN_VARIABLE
                    + ", else DIR/" + ADMIN_TOKEN_FILE + " of --data-dir when it exists)")
    private Path tokenFile;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:BASALT_DATA_DIR:-./data}",
            description = "the local node's data directory, for its admin token (default: $BASALT_DATA_DIR,"
                    + " else ./data, as for serve)")
    private Path dataDir;

    /** A client of the API these options name: the first address that answers, when there are several. */
    public VolumeApiClient client(Duration timeout) throws VolumeApiException {
        return new VolumeApiClient(answeringUrl(), token(), timeout);
    }

    /** The addresses given, in order. */
    public List<URI> urls() {
        return List.copyOf(urls);
    }

    /**
     * The first address whose API answers {@code GET /api/v1/health} within {@link #PROBE_TIMEOUT}
     * (whatever the answer: a node that answers with an error is up and says why). A single address
     * is used as it is, so that its own failure is what the caller reports.
     */
    public URI answeringUrl() throws VolumeApiException {
        if (urls.size() == 1) {
            return urls.getFirst();
        }
        List<String> failures = new ArrayList<>();
        for (URI url : urls) {
            try {
                new VolumeApiClient(url, null, PROBE_TIMEOUT).health();
                return url;
            } catch (VolumeApiException e) {
                if (e.status() != 0) {
                    return url;
                }
                failures.add(e.getMessage());
            }
        }
        throw new VolumeApiException(0, "none of the " + urls.size() + " volume API addresses answered: "
                + String.join("; ", failures), null);
    }

    /** The token, from the first of --token-file, $BASALT_API_TOKEN and the data directory; null if none. */
    public String token() throws VolumeApiException {
        return token(System.getenv());
    }

    /** The token, or null to call without one (the API then answers 401 and says so). */
    String token(Map<String, String> environment) throws VolumeApiException {
        if (tokenFile != null) {
            return readToken(tokenFile);
        }
        String fromEnvironment = environment.get(TOKEN_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment.strip();
        }
        Path local = dataDir.resolve(ADMIN_TOKEN_FILE);
        return Files.exists(local) ? readToken(local) : null;
    }

    private static String readToken(Path file) throws VolumeApiException {
        try {
            String token = Files.readString(file).strip();
            if (token.isEmpty()) {
                throw new VolumeApiException(0, "the token file " + file + " is empty", null);
            }
            return token;
        } catch (IOException e) {
            throw new VolumeApiException(0, "cannot read the API token from " + file + ": " + e, e);
        }
    }
}
