package io.basalt.attach.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** A client of Basalt's volume API for the few calls attaching a volume needs. */
public final class VolumeApiClient {
    private static final ObjectMapper JSON = new ObjectMapper();

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

    public VolumeConnection volume(String id) throws VolumeApiException {
        return parse(send(request(volumePath(id)).GET()), VolumeConnection.class);
    }

    /** Adds a host NQN to the volume's ACL (no change if it is there already), atomically on the node. */
    public VolumeConnection allowHost(String id, String hostNqn) throws VolumeApiException {
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("hostNqn", hostNqn));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of one string is always JSON", e);
        }
        HttpRequest.Builder post = request(volumePath(id) + "/hosts")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        return parse(send(post), VolumeConnection.class);
    }

    /** Removes a host NQN from the volume's ACL (no change if it is not there), atomically on the node. */
    public VolumeConnection denyHost(String id, String hostNqn) throws VolumeApiException {
        return parse(send(request(volumePath(id) + "/hosts/" + encode(hostNqn)).DELETE()), VolumeConnection.class);
    }

    private static String volumePath(String id) {
        return "/api/v1/volumes/" + encode(id);
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

    private HttpResponse<String> send(HttpRequest.Builder builder) throws VolumeApiException {
        HttpRequest request = builder.build();
        String what = request.method() + " " + request.uri();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new VolumeApiException(0, what + ": no answer within " + timeout.toMillis() + " ms", e);
        } catch (ConnectException e) {
            throw new VolumeApiException(0, what + ": volume API unreachable", e);
        } catch (IOException e) {
            throw new VolumeApiException(0, what + ": " + e.getMessage(), e);
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
}
