package io.basalt.attach.api;

import com.github.tomakehurst.wiremock.WireMockServer;
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
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
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

    private WireMockServer api;
    private VolumeApiClient client;

    @BeforeEach
    void start() {
        api = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        api.start();
        client = new VolumeApiClient(URI.create(api.baseUrl()), "secret", Duration.ofMillis(500));
    }

    @AfterEach
    void stop() {
        api.stop();
    }

    @Test
    void readsConnectionDetailsAndIgnoresUnknownFields() throws Exception {
        api.stubFor(get("/api/v1/volumes/v1").withHeader("Authorization", equalTo("Bearer secret")).willReturn(okJson(VOLUME)));
        VolumeConnection v = client.volume("v1");
        assertEquals(3, v.nsid());
        assertEquals(List.of(new VolumeConnection.Portal("tcp", "127.0.0.1", 4420)), v.portals());
    }

    @Test
    void allowHostReplacesTheAclWithTheHostAdded() throws Exception {
        api.stubFor(get("/api/v1/volumes/v1").willReturn(okJson(VOLUME)));
        api.stubFor(put("/api/v1/volumes/v1/hosts").willReturn(okJson(VOLUME.replace("\"hosts\":[]", "\"hosts\":[\"" + HOST + "\"]"))));
        assertEquals(List.of(HOST), client.allowHost("v1", HOST).hosts());
        api.verify(putRequestedFor(urlEqualTo("/api/v1/volumes/v1/hosts")).withRequestBody(equalToJson("{\"hosts\":[\"" + HOST + "\"]}")));
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
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> client.volume("v1"));
        assertEquals(0, e.status());
        assertTrue(e.getMessage().contains("no answer within 500 ms"), e.getMessage());
    }

    @Test
    void unreachableApiIsAClearError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        VolumeApiClient nowhere = new VolumeApiClient(URI.create("http://127.0.0.1:" + closedPort), null, Duration.ofMillis(500));
        VolumeApiException e = assertThrows(VolumeApiException.class, () -> nowhere.volume("v1"));
        assertTrue(e.getMessage().contains("unreachable"), e.getMessage());
    }
}
