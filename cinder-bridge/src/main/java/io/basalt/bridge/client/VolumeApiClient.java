package io.basalt.bridge.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.DriveList;
import io.basalt.bridge.api.NodeStats;
import io.basalt.bridge.api.ReplaceDriveRequest;
import io.basalt.bridge.api.Qos;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.SnapshotGroupList;
import io.basalt.bridge.api.SnapshotList;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.VolumeList;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The Java client of Basalt's volume API, in the API's own types: what the operator's command line
 * and the libvirt attachment tool use. Unknown fields are ignored so that a newer node still answers
 * an older client.
 */
public final class VolumeApiClient {
    private static final String VOLUMES = "/api/v1/volumes";
    private static final String SNAPSHOTS = "/api/v1/snapshots";
    private static final String SNAPSHOT_GROUPS = "/api/v1/snapshot-groups";
    private static final String STATS = "/api/v1/stats";
    private static final String DRIVES = "/api/v1/drives";
    private static final String HEALTH = "/api/v1/health";
    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule().addDeserializer(Instant.class, new IsoInstant()))
            .build();

    private final URI base;
    private final String token;
    private final Duration timeout;
    private final HttpClient http;

    /**
     * @param base    the API's address, e.g. {@code http://127.0.0.1:8470}
     * @param token   bearer token sent as {@code Authorization: Bearer}, or null to send none
     * @param timeout bound on connecting and on each request
     */
    public VolumeApiClient(URI base, String token, Duration timeout) {
        this.base = base;
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** The API's address. */
    public URI base() {
        return base;
    }

    public Volume volume(String id) throws VolumeApiException {
        return parse(send(request(volumePath(id)).GET()), Volume.class);
    }

    /** The volume with that ID or, failing that, the one with that name: what an operator types. */
    public Volume findVolume(String idOrName) throws VolumeApiException {
        try {
            return volume(idOrName);
        } catch (VolumeApiException notAnId) {
            return byName(VOLUMES, idOrName, VolumeList.class, notAnId).volumes().stream().findFirst()
                    .orElseThrow(() -> new VolumeApiException(404, "no volume with ID or name " + idOrName, notAnId));
        }
    }

    public List<Volume> volumes() throws VolumeApiException {
        return parse(send(request(VOLUMES).GET()), VolumeList.class).volumes();
    }

    public Volume createVolume(CreateVolumeRequest create) throws VolumeApiException {
        return parse(send(withBody(request(VOLUMES), "POST", create)), Volume.class);
    }

    /** Grows the volume to {@code sizeBytes}. */
    public Volume extendVolume(String id, long sizeBytes) throws VolumeApiException {
        return parse(send(withBody(request(volumePath(id)), "PUT", Map.of("sizeBytes", sizeBytes))), Volume.class);
    }

    /** Renames the volume and/or switches its compression (a null field is left as it is). */
    public Volume updateVolume(String id, UpdateVolumeRequest update) throws VolumeApiException {
        return parse(send(withBody(request(volumePath(id)), "PATCH", update)), Volume.class);
    }

    /** Replaces the volume's QoS limits (0 = no limit); they apply to its next commands. */
    public Volume setQos(String id, Qos qos) throws VolumeApiException {
        return parse(send(withBody(request(volumePath(id) + "/qos"), "PUT", qos)), Volume.class);
    }

    /** Deletes the volume; deleting one that is gone already is not an error (the API's deletes are idempotent). */
    public void deleteVolume(String id) throws VolumeApiException {
        send(request(volumePath(id)).DELETE());
    }

    /** Adds a host NQN to the volume's ACL (no change if it is there already), atomically on the node. */
    public Volume allowHost(String id, String hostNqn) throws VolumeApiException {
        return parse(send(withBody(request(volumePath(id) + "/hosts"), "POST", Map.of("hostNqn", hostNqn))), Volume.class);
    }

    /** Removes a host NQN from the volume's ACL (no change if it is not there), atomically on the node. */
    public Volume denyHost(String id, String hostNqn) throws VolumeApiException {
        return parse(send(request(volumePath(id) + "/hosts/" + encode(hostNqn)).DELETE()), Volume.class);
    }

    /** Brings the volume's content back to the snapshot's. */
    public Volume revert(String id, String snapshotId) throws VolumeApiException {
        return parse(send(withBody(request(volumePath(id) + "/revert"), "POST", Map.of("snapshotId", snapshotId))), Volume.class);
    }

    public Snapshot snapshot(String id) throws VolumeApiException {
        return parse(send(request(snapshotPath(id)).GET()), Snapshot.class);
    }

    /** The snapshot with that ID or, failing that, the one with that name. */
    public Snapshot findSnapshot(String idOrName) throws VolumeApiException {
        try {
            return snapshot(idOrName);
        } catch (VolumeApiException notAnId) {
            return byName(SNAPSHOTS, idOrName, SnapshotList.class, notAnId).snapshots().stream().findFirst()
                    .orElseThrow(() -> new VolumeApiException(404, "no snapshot with ID or name " + idOrName, notAnId));
        }
    }

    /**
     * The list filtered by name after a lookup by ID failed with {@code notAnId}; that failure stands
     * when it was not a 404, or when the text cannot be a name either (the API refuses the filter).
     */
    private <T> T byName(String collection, String name, Class<T> listType, VolumeApiException notAnId)
            throws VolumeApiException {
        if (notAnId.status() != 404) {
            throw notAnId;
        }
        try {
            return parse(send(request(collection + "?name=" + encode(name)).GET()), listType);
        } catch (VolumeApiException e) {
            throw e.status() == 400 ? notAnId : e;
        }
    }

    public List<Snapshot> snapshots() throws VolumeApiException {
        return parse(send(request(SNAPSHOTS).GET()), SnapshotList.class).snapshots();
    }

    public Snapshot createSnapshot(CreateSnapshotRequest create) throws VolumeApiException {
        return parse(send(withBody(request(SNAPSHOTS), "POST", create)), Snapshot.class);
    }

    public void deleteSnapshot(String id) throws VolumeApiException {
        send(request(snapshotPath(id)).DELETE());
    }

    public SnapshotGroup snapshotGroup(String id) throws VolumeApiException {
        return parse(send(request(SNAPSHOT_GROUPS + "/" + encode(id)).GET()), SnapshotGroup.class);
    }

    /** The snapshot group with that ID or, failing that, the one with that name. */
    public SnapshotGroup findSnapshotGroup(String idOrName) throws VolumeApiException {
        try {
            return snapshotGroup(idOrName);
        } catch (VolumeApiException notAnId) {
            return byName(SNAPSHOT_GROUPS, idOrName, SnapshotGroupList.class, notAnId).snapshotGroups().stream()
                    .findFirst()
                    .orElseThrow(() -> new VolumeApiException(404, "no snapshot group with ID or name " + idOrName,
                            notAnId));
        }
    }

    public List<SnapshotGroup> snapshotGroups() throws VolumeApiException {
        return parse(send(request(SNAPSHOT_GROUPS).GET()), SnapshotGroupList.class).snapshotGroups();
    }

    /** Snapshots of several volumes at one instant; its members are snapshots like any other. */
    public SnapshotGroup createSnapshotGroup(CreateSnapshotGroupRequest create) throws VolumeApiException {
        return parse(send(withBody(request(SNAPSHOT_GROUPS), "POST", create)), SnapshotGroup.class);
    }

    /** Deletes the group and its member snapshots. */
    public void deleteSnapshotGroup(String id) throws VolumeApiException {
        send(request(SNAPSHOT_GROUPS + "/" + encode(id)).DELETE());
    }

    /** Whether the API answers; the one call that needs no token. */
    public void health() throws VolumeApiException {
        send(request(HEALTH).GET());
    }

    public NodeStats stats() throws VolumeApiException {
        return parse(send(request(STATS).GET()), NodeStats.class);
    }

    /** The node's drives and the rebuild; the admin token only. */
    public DriveList drives() throws VolumeApiException {
        return parse(send(request(DRIVES).GET()), DriveList.class);
    }

    /** Replaces failed drive {@code index} by the drive at {@code path} on the node; its rebuild goes on in the background. */
    public DriveList replaceDrive(int index, String path) throws VolumeApiException {
        return parse(send(withBody(request(DRIVES + "/" + index + "/replace"), "POST", new ReplaceDriveRequest(path))),
                DriveList.class);
    }

    /** The node's Prometheus metrics, as text. */
    public String metrics() throws VolumeApiException {
        return send(request("/metrics").setHeader("Accept", "text/plain")).body();
    }

    private static String volumePath(String id) {
        return VOLUMES + "/" + encode(id);
    }

    private static String snapshotPath(String id) {
        return SNAPSHOTS + "/" + encode(id);
    }

    private static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static HttpRequest.Builder withBody(HttpRequest.Builder builder, String method, Object body) {
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("request bodies are records and maps of strings and numbers", e);
        }
        return builder.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(json));
    }

    private HttpResponse<String> send(HttpRequest.Builder builder) throws VolumeApiException {
        HttpRequest request = builder.build();
        String what = request.method() + " " + request.uri();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new VolumeApiException(0, what + ": no answer within " + timeout.toMillis() + " ms", e);
        } catch (ConnectException e) {
            throw new VolumeApiException(0, what + ": volume API unreachable: " + connectFailure(e), e);
        } catch (IOException e) {
            throw new VolumeApiException(0, what + ": " + rootCause(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolumeApiException(0, what + ": interrupted", e);
        }
        if (response.statusCode() / 100 != 2) {
            throw new VolumeApiException(response.statusCode(),
                    what + " answered " + response.statusCode() + ": " + errorMessage(response.body()), null);
        }
        return response;
    }

    /**
     * The JDK's HTTP client reports a refused connection as a ConnectException without any message,
     * which alone would leave the operator guessing.
     */
    private String connectFailure(ConnectException e) {
        String reason = rootCause(e);
        String where = base.getHost() + ":" + base.getPort();
        return reason.equals(e.toString())
                ? "connection to " + where + " refused (is the node running, and is this its API address?)"
                : reason + " (" + where + ")";
    }

    /** The innermost message of the chain, which is the one that explains; the exception itself without one. */
    private static String rootCause(Throwable e) {
        String message = e.toString();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
        }
        return message;
    }

    private static String errorMessage(String body) {
        try {
            JsonNode error = JSON.readTree(body).path("error");
            return error.isTextual() ? error.asText() : body;
        } catch (JsonProcessingException e) {
            return body;
        }
    }

    private static <T> T parse(HttpResponse<String> response, Class<T> type) throws VolumeApiException {
        try {
            return JSON.readValue(response.body(), type);
        } catch (JsonProcessingException e) {
            throw new VolumeApiException(response.statusCode(),
                    response.request().uri() + ": malformed response: " + e.getOriginalMessage(), e);
        }
    }

    /** The API writes instants as ISO-8601 ({@code Instant.toString()}). */
    private static final class IsoInstant extends JsonDeserializer<Instant> {
        @Override
        public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            String text = parser.getValueAsString();
            try {
                return Instant.parse(text);
            } catch (DateTimeException | NullPointerException e) {
                return (Instant) context.handleWeirdStringValue(Instant.class, text, "not an ISO-8601 instant");
            }
        }
    }
}
