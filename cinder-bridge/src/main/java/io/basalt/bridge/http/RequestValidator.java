package io.basalt.bridge.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.Names;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateSnapshotGroupRequest;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Qos;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns request bodies and parameters into validated values, refusing anything malformed with an
 * error that names the field at fault. Jackson binds the body strictly; its binding failures are
 * translated into the same field-level errors as the checks made here.
 */
final class RequestValidator {
    /** Hosts address volumes in 512-byte sectors at the finest. */
    private static final int SIZE_GRANULARITY = 512;
    private static final long MAX_SIZE_BYTES = 64L << 40;
    private static final int MIN_REPLICAS = 1;
    private static final int MAX_REPLICAS = 3;
    /** NVMe Base Specification: an NQN is at most 223 bytes of UTF-8. */
    private static final int MAX_NQN_BYTES = 223;

    private static final String UUID_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";
    /**
     * {@code nqn.yyyy-mm.<reverse domain>:<anything without white space or control characters>}, in
     * Unicode's sense: a subset of what the target's Connect accepts (nvmetcp's {@code Nqn}), which
     * refuses line terminators such as U+0085 and U+2028 that ASCII classes would let through.
     */
    private static final Pattern DATE_NQN = Pattern.compile(
            "nqn\\.\\d{4}-(0[1-9]|1[0-2])"
                    + "(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?){2,}"
                    + ":[^\\p{IsWhite_Space}\\p{Cc}]+");
    private static final Pattern CANONICAL_UUID = Pattern.compile(
            "\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}");

    /** "DHHC-1:03:" and the base64 of 64 key bytes and a CRC, with the closing colon. */
    private static final int MAX_SECRET_LENGTH = 103;

    CreateVolumeRequest createVolume(byte[] body) {
        RequestBodies.CreateVolume request = bind(body, RequestBodies.CreateVolume.class);
        String name = name(request.name());
        String sourceSnapshotId = optionalId("sourceSnapshotId", request.sourceSnapshotId());
        String sourceVolumeId = optionalId("sourceVolumeId", request.sourceVolumeId());
        if (sourceSnapshotId != null && sourceVolumeId != null) {
            throw invalid("sourceVolumeId", "give at most one of sourceSnapshotId and sourceVolumeId");
        }
        boolean hasSource = sourceSnapshotId != null || sourceVolumeId != null;
        long sizeBytes = sizeBytes(request.sizeBytes(), hasSource);
        List<String> hosts = request.hosts() == null ? List.of() : hosts(request.hosts());
        Integer replicas = request.replicas();
        if (replicas != null && (replicas < MIN_REPLICAS || replicas > MAX_REPLICAS)) {
            throw invalid("replicas", "replicas must be from " + MIN_REPLICAS + " to " + MAX_REPLICAS);
        }
        return new CreateVolumeRequest(name, sizeBytes, hosts, request.compression(), replicas,
                sourceSnapshotId, sourceVolumeId, request.requireAuthentication(),
                request.qos() == null ? null : qos("qos.", request.qos()));
    }

    Qos qos(byte[] body) {
        return qos("", bind(body, RequestBodies.Qos.class));
    }

    /** Every limit a non-negative integer (0 = none), the burst at most {@link Qos#MAX_BURST_SECONDS}. */
    private static Qos qos(String prefix, RequestBodies.Qos qos) {
        return new Qos(limit(prefix, "totalIops", qos.totalIops(), Long.MAX_VALUE),
                limit(prefix, "readIops", qos.readIops(), Long.MAX_VALUE),
                limit(prefix, "writeIops", qos.writeIops(), Long.MAX_VALUE),
                limit(prefix, "totalBytesPerSec", qos.totalBytesPerSec(), Long.MAX_VALUE),
                limit(prefix, "readBytesPerSec", qos.readBytesPerSec(), Long.MAX_VALUE),
                limit(prefix, "writeBytesPerSec", qos.writeBytesPerSec(), Long.MAX_VALUE),
                (int) limit(prefix, "burstSeconds", qos.burstSeconds(), Qos.MAX_BURST_SECONDS));
    }

    private static long limit(String prefix, String field, BigInteger value, long max) {
        if (value == null) {
            return 0;
        }
        if (value.signum() < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
            throw invalid(prefix + field, prefix + field + " must be an integer from 0 (no limit) to " + max);
        }
        return value.longValueExact();
    }

    long extendedSize(byte[] body) {
        return sizeBytes(bind(body, RequestBodies.ExtendVolume.class).sizeBytes(), false);
    }

    /** At least one property to change; a name must be a valid one. */
    UpdateVolumeRequest updateVolume(byte[] body) {
        RequestBodies.UpdateVolume request = bind(body, RequestBodies.UpdateVolume.class);
        if (request.name() == null && request.compression() == null) {
            throw invalid(null, "give at least one of name and compression");
        }
        return new UpdateVolumeRequest(request.name() == null ? null : name(request.name()), request.compression());
    }

    List<String> hosts(byte[] body) {
        List<String> hosts = bind(body, RequestBodies.SetHosts.class).hosts();
        if (hosts == null) {
            throw invalid("hosts", "hosts is required: the complete array of host NQNs allowed to see the volume");
        }
        return hosts(hosts);
    }

    String hostToAdd(byte[] body) {
        return hostNqn("hostNqn", bind(body, RequestBodies.AddHost.class).hostNqn());
    }

    String hostToRemove(String nqn) {
        return hostNqn("nqn", nqn);
    }

    /** Both secrets present as strings of sane length; their DHHC-1 form is the service's to check. */
    RequestBodies.SetHostSecrets hostSecrets(byte[] body) {
        RequestBodies.SetHostSecrets request = bind(body, RequestBodies.SetHostSecrets.class);
        if (request.hostSecret() == null || request.hostSecret().isEmpty()) {
            throw invalid("hostSecret", "hostSecret is required: the host's secret as nvme gen-dhchap-key prints it");
        }
        if (request.hostSecret().length() > MAX_SECRET_LENGTH
                || (request.controllerSecret() != null && request.controllerSecret().length() > MAX_SECRET_LENGTH)) {
            throw invalid(request.hostSecret().length() > MAX_SECRET_LENGTH ? "hostSecret" : "controllerSecret",
                    "a DHHC-1 secret has at most " + MAX_SECRET_LENGTH + " characters");
        }
        return request;
    }

    String revertSnapshotId(byte[] body) {
        return requiredId("snapshotId", bind(body, RequestBodies.RevertVolume.class).snapshotId());
    }

    CreateSnapshotRequest createSnapshot(byte[] body) {
        RequestBodies.CreateSnapshot request = bind(body, RequestBodies.CreateSnapshot.class);
        return new CreateSnapshotRequest(name(request.name()),
                requiredId("sourceVolumeId", request.sourceVolumeId()));
    }

    /**
     * A group's name leaves room for its members' names, {@code <name>.<n>}; its volumes are 1 to
     * {@link CreateSnapshotGroupRequest#MAX_VOLUMES} distinct ids.
     */
    CreateSnapshotGroupRequest createSnapshotGroup(byte[] body) {
        RequestBodies.CreateSnapshotGroup request = bind(body, RequestBodies.CreateSnapshotGroup.class);
        String name = name(request.name());
        int memberSuffix = 1 + String.valueOf(CreateSnapshotGroupRequest.MAX_VOLUMES - 1).length();
        if (name.length() > Names.MAX_LENGTH - memberSuffix) {
            throw invalid("name", "a snapshot group's name is at most " + (Names.MAX_LENGTH - memberSuffix)
                    + " characters: its member snapshots are called <name>.<n>");
        }
        List<String> volumeIds = request.volumeIds();
        if (volumeIds == null || volumeIds.isEmpty()) {
            throw invalid("volumeIds", "volumeIds must name at least one volume");
        }
        if (volumeIds.size() > CreateSnapshotGroupRequest.MAX_VOLUMES) {
            throw invalid("volumeIds", "a snapshot group holds at most " + CreateSnapshotGroupRequest.MAX_VOLUMES
                    + " volumes, not " + volumeIds.size());
        }
        for (int i = 0; i < volumeIds.size(); i++) {
            requiredId("volumeIds[" + i + "]", volumeIds.get(i));
        }
        if (new LinkedHashSet<>(volumeIds).size() != volumeIds.size()) {
            throw invalid("volumeIds", "volumeIds names a volume more than once");
        }
        return new CreateSnapshotGroupRequest(name, volumeIds);
    }

    /** The {@code name} query parameter of a list, or null when absent. */
    String nameFilter(List<String> values) {
        if (values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw invalid("name", "give the name query parameter at most once");
        }
        return name(values.getFirst());
    }

    String project(String project) {
        if (!Names.isValidProject(project)) {
            throw invalid("project", "project must be " + Names.RULE + ", and not '.' or '..'");
        }
        return project;
    }

    static <T extends Record> T bind(byte[] body, Class<T> type) {
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
        if (!json.isObject()) {
            throw invalid(null, "request body must be a JSON object");
        }
        try {
            return ApiJson.MAPPER.treeToValue(json, type);
        } catch (UnrecognizedPropertyException e) {
            List<String> allowed = e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList();
            throw invalid(e.getPropertyName(), "unknown field '" + e.getPropertyName() + "'; allowed fields: "
                    + String.join(", ", allowed));
        } catch (JsonMappingException e) {
            throw wrongType(type, e);
        } catch (JsonProcessingException e) {
            throw invalid(null, "request body does not fit: " + e.getOriginalMessage());
        }
    }

    /** "sizeBytes must be an integer", "hosts[1] must be a string": the path and the expected JSON type. */
    private static InvalidVolumeRequestException wrongType(Class<? extends Record> type, JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        if (path.isEmpty() || path.getFirst().getFieldName() == null) {
            return invalid(null, "request body does not fit: " + e.getOriginalMessage());
        }
        String first = path.getFirst().getFieldName();
        // "qos.readIops" names a field of a nested object; "hosts[1]" an element of the field "hosts".
        StringBuilder field = new StringBuilder(first);
        StringBuilder where = new StringBuilder(first);
        path.stream().skip(1).forEach(ref -> {
            if (ref.getFieldName() != null) {
                field.append('.').append(ref.getFieldName());
                where.append('.').append(ref.getFieldName());
            } else {
                where.append('[').append(ref.getIndex()).append(']');
            }
        });
        Class<?> expected = e instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null
                ? mismatch.getTargetType()
                : Arrays.stream(type.getRecordComponents())
                        .filter(c -> c.getName().equals(first)).findFirst()
                        .map(RecordComponent::getType).orElse(Object.class);
        return invalid(field.toString(), where + " must be " + jsonType(expected));
    }

    private static String jsonType(Class<?> type) {
        if (type == String.class) {
            return "a string";
        }
        if (type == Boolean.class) {
            return "true or false";
        }
        if (type == Integer.class || type == BigInteger.class) {
            return "an integer";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "an array of strings";
        }
        return "of another type";
    }

    private static String name(String name) {
        if (name == null) {
            throw invalid("name", "name is required");
        }
        if (!Names.isValid(name)) {
            throw invalid("name", "name must be " + Names.RULE);
        }
        return name;
    }

    private static String requiredId(String field, String id) {
        if (id == null) {
            throw invalid(field, field + " is required");
        }
        return optionalId(field, id);
    }

    private static String optionalId(String field, String id) {
        if (id != null && id.isEmpty()) {
            throw invalid(field, field + " must not be empty");
        }
        return id;
    }

    /** A source's size is taken for 0, so 0 is allowed only {@code withSource}. */
    private static long sizeBytes(BigInteger size, boolean withSource) {
        if (size == null) {
            throw invalid("sizeBytes", "sizeBytes is required");
        }
        if (size.signum() < 0 || size.signum() == 0 && !withSource) {
            throw invalid("sizeBytes", withSource
                    ? "sizeBytes must be positive, or 0 for the source's size"
                    : "sizeBytes must be positive");
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
    private static List<String> hosts(List<String> nqns) {
        if (nqns.size() > VolumeService.MAX_HOSTS) {
            throw invalid("hosts", "at most " + VolumeService.MAX_HOSTS + " hosts may see a volume, not " + nqns.size());
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (int i = 0; i < nqns.size(); i++) {
            String nqn = nqns.get(i);
            if (nqn == null) {
                throw invalid("hosts", "hosts[" + i + "] must be a string");
            }
            String problem = nqnProblem(nqn);
            if (problem != null) {
                throw invalid("hosts", "hosts[" + i + "] is not a valid host NQN (" + problem + "): " + nqn);
            }
            hosts.add(nqn);
        }
        return new ArrayList<>(hosts);
    }

    private static String hostNqn(String field, String nqn) {
        if (nqn == null) {
            throw invalid(field, field + " is required");
        }
        String problem = nqnProblem(nqn);
        if (problem != null) {
            throw invalid(field, field + " is not a valid host NQN (" + problem + "): " + nqn);
        }
        return nqn;
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
