package io.basalt.bridge.client;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.SnapshotGroup;
import io.basalt.bridge.api.Volume;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Error paths of the API client against stubbed answers; the happy path runs against a real node elsewhere. */
class VolumeApiClientTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    private static final String VOLUME = """
            {"id":"v1","name":"a","sizeBytes":1048576,"nqn":"nqn.2026-11.io.basalt:subsystem:x","nsid":3,
             "uuid":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","nguid":"00","hosts":[],
             "portals":[{"transport":"tcp","address":"127.0.0.1","port":4420}],"futureField":true}""";
    private static final String WITH_HOST = VOLUME.replace("\"hosts\":[]", "\"hosts\":[\"" + HOST + "\"]");

    private WireMockServer api;
    private VolumeApiClient client;

    @BeforeEach
    void start() {
        api = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        api.start();
        // Generous, because a cold JVM's first request can take seconds; only slowAnswerTimesOut wants a short one.
        client = new VolumeApiClient(URI.create(api.baseUrl()), "secret", Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        api.stop();
    }

    @Test
    void readsConnectionDetailsAndIgnoresUnknownFields() throws Exception {
        api.stubFor(get("/api/v1/volumes/v1").withHeader("Authorization", equalTo("Bearer secret")).willReturn(okJson(VOLUME)));
        Volume v = client.volume("v1");
        assertEquals(3, v.nsid());
        assertEquals(List.of(new Portal("tcp", "127.0.0.1", 4420)), v.portals());
    }

    @Test
    void snapshotGroupsAreCreatedReadAndDeletedAtTheirOwnPath() throws Exception {
        String group = """
                {"id":"g1","name":"g","project":"default","createdAt":"2026-12-01T13:00:00Z","snapshots":[
                 {"id":"s1","name":"g.0","project":"default","sourceVolumeId":"v1","sizeBytes":512,
                  "createdAt":"2026-12-01T13:00:00Z","space":{"mappedBytes":0,"storedBytes":0,
                  "exclusiveBytes":0,"sharedBytes":0}}]}""";
        api.stubFor(post("/api/v1/snapshot-groups").willReturn(okJson(group).withStatus(201)));
        api.stubFor(get("/api/v1/snapshot-groups").willReturn(okJson("{\"snapshotGroups\":[" + group + "]}")));
        api.stubFor(delete("/api/v1/snapshot-groups/g1").willReturn(aResponse().withStatus(204)));

        SnapshotGroup created = client.createSnapshotGroup(new CreateSnapshotGroupRequest("g", List.of("v1")));
        assertEquals(List.of("v1"), created.snapshots().stream().map(Snapshot::sourceVolumeId).toList());
        api.verify(1, postRequestedFor(urlEqualTo("/api/v1/snapshot-groups"))
                .withRequestBody(equalToJson("{\"name\":\"g\",\"volumeIds\":[\"v1\"]}")));
        assertEquals(List.of(created), client.snapshotGroups());
        client.deleteSnapshotGroup("g1");
        api.verify(1, deleteRequestedFor(urlEqualTo("/api/v1/snapshot-groups/g1")));
    }

    @Test
    void allowHostAsksTheNodeToAddTheHostInOneRequest() throws Exception {
        api.stubFor(post("/api/v1/volumes/v1/hosts").willReturn(okJson(WITH_HOST)));
        assertEquals(List.of(HOST), client.allowHost("v1", HOST).hosts());
        api.verify(1, postRequestedFor(urlEqualTo("/api/v1/volumes/v1/hosts"))
                .withHeader("Authorization", equalTo("Bearer secret"))
                .withHeader("Content-Type", equalTo("application/json"))
                .withRequestBody(equalToJson("{\"hostNqn\":\"" + HOST + "\"}")));
        api.verify(0, getRequestedFor(urlEqualTo("/api/v1/volumes/v1")));
        api.verify(0, putRequestedFor(urlEqualTo("/api/v1/volumes/v1/hosts")));
    }

    @Test
    void denyHostAsksTheNodeToRemoveTheUrlEncodedHostInOneRequest() throws Exception {
        String encoded = "/api/v1/volumes/v1/hosts/nqn.2014-08.org.nvmexpress%3Auuid%3A11111111-2222-3333-4444-555555555555";
        api.stubFor(delete(urlEqualTo(encoded)).willReturn(okJson(VOLUME)));
        assertEquals(List.of(), client.denyHost("v1", HOST).hosts());
        api.verify(1, deleteRequestedFor(urlEqualTo(encoded)).withHeader("Authorization", equalTo("Bearer secret")));
        api.verify(0, getRequestedFor(urlEqualTo("/api/v1/volumes/v1")));
    }

    @Test
    void aRefusedTokenIsReportedWithItsStatus() {
        api.stubFor(post("/api/v1/volumes/v1/hosts").willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Bearer").withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"the bearer token is not valid\"}")));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> client.allowHost("v1", HOST));
        assertEquals(401, e.status());
        assertTrue(e.getMessage().contains("the bearer token is not valid"), e.getMessage());
    }

    @Test
    void withoutATokenNoAuthorizationIsSent() throws Exception {
        api.stubFor(get("/api/v1/volumes/v1").willReturn(okJson(VOLUME)));
        new VolumeApiClient(URI.create(api.baseUrl()), null, Duration.ofSeconds(10)).volume("v1");
        api.verify(getRequestedFor(urlEqualTo("/api/v1/volumes/v1")).withoutHeader("Authorization"));
    }

    @Test
    void notFoundCarriesTheStatusAndTheApisMessage() {
        api.stubFor(get("/api/v1/volumes/nope").willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/json").withBody("{\"error\":\"no volume nope\"}")));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> client.volume("nope"));
        assertEquals(404, e.status());
        assertTrue(e.getMessage().contains("no volume nope"), e.getMessage());
    }

    @Test
    void serverErrorIsReported() {
        api.stubFor(get("/api/v1/volumes/v1").willReturn(aResponse().withStatus(500).withBody("boom")));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> client.volume("v1"));
        assertEquals(500, e.status());
        assertTrue(e.getMessage().contains("boom"));
    }

    @Test
    void malformedJsonIsAClearError() {
        api.stubFor(get("/api/v1/volumes/v1").willReturn(okJson("{\"id\": ")));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> client.volume("v1"));
        assertTrue(e.getMessage().contains("malformed response"), e.getMessage());
    }

    @Test
    void slowAnswerTimesOut() {
        api.stubFor(get("/api/v1/volumes/v1").willReturn(okJson(VOLUME).withFixedDelay(3000)));
        VolumeApiClient impatient = new VolumeApiClient(URI.create(api.baseUrl()), "secret", Duration.ofMillis(500));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> impatient.volume("v1"));
        assertEquals(0, e.status());
        assertTrue(e.getMessage().contains("no answer within 500 ms"), e.getMessage());
    }

    /** Said only "volume API unreachable" before: the JDK's ConnectException has no message of its own. */
    @Test
    void unreachableApiIsAClearErrorWithItsCause() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        VolumeApiClient nowhere = new VolumeApiClient(URI.create("http://127.0.0.1:" + closedPort), null, Duration.ofMillis(500));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> nowhere.volume("v1"));
        assertTrue(e.getMessage().endsWith("volume API unreachable: connection to 127.0.0.1:" + closedPort
                + " refused (is the node running, and is this its API address?)"), e.getMessage());
    }
}
