package io.basalt.bridge.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.HostsRequest;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns request bodies into API requests, refusing anything malformed with an error that names the
 * field at fault. The JSON tree is checked by hand rather than bound to the records so that a wrong
 * type is reported against its field instead of as a generic binding failure.
 */
public final class VolumeRequestValidator {
    private static final int MAX_NAME_LENGTH = 64;
    /** Hosts address volumes in 512-byte sectors at the finest. */
    private static final int SIZE_GRANULARITY = 512;
    private static final long MAX_SIZE_BYTES = 64L << 40;
    /** NVMe Base Specification: an NQN is at most 223 bytes of UTF-8. */
    private static final int MAX_NQN_BYTES = 223;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final String UUID_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";
    /** {@code nqn.yyyy-mm.<reverse domain>:<anything without spaces or control characters>}. */
    private static final Pattern DATE_NQN = Pattern.compile(
            "nqn\\.\\d{4}-(0[1-9]|1[0-2])"
                    + "(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?){2,}"
                    + ":[^\\s\\p{Cntrl}]+");
    private static final Pattern CANONICAL_UUID = Pattern.compile(
            "\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");

    private static final Set<String> CREATE_FIELDS = Set.of("name", "sizeBytes", "hosts");
    private static final Set<String> HOSTS_FIELDS = Set.of("hosts");

    public CreateVolumeRequest createRequest(byte[] body) {
        ObjectNode json = parseObject(body, CREATE_FIELDS);
        String name = name(json.get("name"));
        long sizeBytes = sizeBytes(json.get("sizeBytes"));
        List<String> hosts = json.has("hosts") ? hosts(json.get("hosts")) : List.of();
        return new CreateVolumeRequest(name, sizeBytes, hosts);
    }

    public HostsRequest hostsRequest(byte[] body) {
        ObjectNode json = parseObject(body, HOSTS_FIELDS);
        if (!json.has("hosts")) {
            throw invalid("hosts", "hosts is required: the complete list of host NQNs allowed to see the volume");
        }
        return new HostsRequest(hosts(json.get("hosts")));
    }

    private static ObjectNode parseObject(byte[] body, Set<String> allowedFields) {
        JsonNode json;
        try {
            json = ApiJson.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw invalid(null, "request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid(null, "request body could not be read: " + e.getMessage());
        }
        if (json == null || json.isMissingNode()) {
            throw invalid(null, "request body is empty; a JSON object is required");
        }
        if (!(json instanceof ObjectNode object)) {
            throw invalid(null, "request body must be a JSON object");
        }
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!allowedFields.contains(field)) {
                throw invalid(field, "unknown field '" + field + "'; allowed fields: " + String.join(", ",
                        allowedFields.stream().sorted().toList()));
            }
        }
        return object;
    }

    private static String name(JsonNode node) {
        if (node == null || node.isNull()) {
            throw invalid("name", "name is required");
        }
        if (!node.isTextual()) {
            throw invalid("name", "name must be a string");
        }
        String name = node.textValue();
        if (name.isEmpty() || name.length() > MAX_NAME_LENGTH || !NAME.matcher(name).matches()) {
            throw invalid("name", "name must be 1 to " + MAX_NAME_LENGTH
                    + " characters of letters, digits, '.', '_' and '-'");
        }
        return name;
    }

    private static long sizeBytes(JsonNode node) {
        if (node == null || node.isNull()) {
            throw invalid("sizeBytes", "sizeBytes is required");
        }
        if (!node.isIntegralNumber()) {
            throw invalid("sizeBytes", "sizeBytes must be an integer number of bytes");
        }
        BigInteger size = node.bigIntegerValue();
        if (size.signum() <= 0) {
            throw invalid("sizeBytes", "sizeBytes must be positive");
        }
        if (size.compareTo(BigInteger.valueOf(MAX_SIZE_BYTES)) > 0) {
            throw invalid("sizeBytes", "sizeBytes must be at most 64 TiB (" + MAX_SIZE_BYTES + " bytes)");
        }
        long bytes = size.longValueExact();
        if (bytes % SIZE_GRANULARITY != 0) {
            throw invalid("sizeBytes", "sizeBytes must be a multiple of " + SIZE_GRANULARITY + " bytes");
        }
        return bytes;
    }

    /** Duplicates are dropped, first occurrence kept, so a repeated host is not an error. */
    private static List<String> hosts(JsonNode node) {
        if (node == null || !node.isArray()) {
            throw invalid("hosts", "hosts must be an array of host NQNs");
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode host = node.get(i);
            if (!host.isTextual()) {
                throw invalid("hosts", "hosts[" + i + "] must be a string");
            }
            String nqn = host.textValue();
            String problem = nqnProblem(nqn);
            if (problem != null) {
                throw invalid("hosts", "hosts[" + i + "] is not a valid host NQN (" + problem + "): " + nqn);
            }
            hosts.add(nqn);
        }
        return new ArrayList<>(hosts);
    }

    /** Why {@code nqn} is not a usable host NQN, or null if it is. */
    private static String nqnProblem(String nqn) {
        if (nqn.getBytes(StandardCharsets.UTF_8).length > MAX_NQN_BYTES) {
            return "longer than " + MAX_NQN_BYTES + " bytes";
        }
        if (nqn.startsWith(UUID_NQN_PREFIX)) {
            String uuid = nqn.substring(UUID_NQN_PREFIX.length());
            return CANONICAL_UUID.matcher(uuid).matches()
                    ? null : "expected " + UUID_NQN_PREFIX + "<uuid>";
        }
        return DATE_NQN.matcher(nqn).matches()
                ? null : "expected nqn.yyyy-mm.<reverse domain>:<name> or " + UUID_NQN_PREFIX + "<uuid>";
    }

    private static InvalidVolumeRequestException invalid(String field, String message) {
        return new InvalidVolumeRequestException(field, message);
    }
}
