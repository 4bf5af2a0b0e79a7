package io.basalt.bridge.http;

import io.basalt.bridge.HostSecretService;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.api.HostAuthentication;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Host secrets in a map, checking only the prefix of the DHHC-1 form (the node checks the whole of it). */
final class InMemoryHostSecrets implements HostSecretService {
    final Map<String, String[]> secrets = new ConcurrentHashMap<>();

    @Override
    public HostAuthentication setSecrets(String hostNqn, String hostSecret, String controllerSecret) {
        if (!hostSecret.startsWith("DHHC-1:") || controllerSecret != null && !controllerSecret.startsWith("DHHC-1:")) {
            throw new InvalidVolumeRequestException("hostSecret", "not a DHHC-1 secret");
        }
        secrets.put(hostNqn, new String[] {hostSecret, controllerSecret});
        return new HostAuthentication(hostNqn, controllerSecret != null);
    }

    @Override
    public Optional<HostAuthentication> authentication(String hostNqn) {
        return Optional.ofNullable(secrets.get(hostNqn)).map(s -> new HostAuthentication(hostNqn, s[1] != null));
    }

    @Override
    public boolean removeSecrets(String hostNqn) {
        return secrets.remove(hostNqn) != null;
    }
}
