package io.basalt.attach.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;

/** What a host needs from the volume API to connect to a volume. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record VolumeConnection(String id, String nqn, int nsid, String uuid, List<String> hosts, List<Portal> portals) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Portal(String transport, String address, int port) {
    }
}
