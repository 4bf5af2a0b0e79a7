package io.basalt.service.config;

import org.apache.commons.configuration2.CompositeConfiguration;
import org.apache.commons.configuration2.MapConfiguration;
import org.apache.commons.configuration2.PropertiesConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.io.FileHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Builds the configuration from, highest precedence first: the command line, {@code BASALT_*}
 * environment variables, the properties file named by {@code --config}, and the built-in defaults.
 */
public final class ConfigLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
    private static final String DATA_DIR_OPTION = "--data-dir";
    private static final String CONFIG_OPTION = "--config";

    private ConfigLoader() {
    }

    /**
     * @param args        {@code --key=value}, {@code --data-dir DIR} and {@code --config FILE} options
     * @param environment the process environment
     * @throws ConfigException naming the argument, variable or key at fault
     */
    public static BasaltConfig load(List<String> args, Map<String, String> environment) {
        Map<String, String> commandLine = new HashMap<>();
        Path configFile = parseArguments(args, commandLine);

        CompositeConfiguration config = new CompositeConfiguration();
        config.addConfiguration(new MapConfiguration(commandLine));
        config.addConfiguration(new MapConfiguration(fromEnvironment(environment)));
        if (configFile != null) {
            config.addConfiguration(loadFile(configFile));
        }
        config.addConfiguration(new MapConfiguration(defaults()));
        return BasaltConfig.from(config);
    }

    /** Fills {@code settings} from the arguments and returns the {@code --config} file, if any. */
    private static Path parseArguments(List<String> args, Map<String, String> settings) {
        Path configFile = null;
        for (Iterator<String> it = args.iterator(); it.hasNext(); ) {
            String arg = it.next();
            if (!arg.startsWith("--")) {
                throw new ConfigException("unexpected argument '" + arg + "': options look like --key=value");
            }
            int equals = arg.indexOf('=');
            String option = equals < 0 ? arg : arg.substring(0, equals);
            boolean shorthand = option.equals(DATA_DIR_OPTION) || option.equals(CONFIG_OPTION);
            String value;
            if (equals >= 0) {
                value = arg.substring(equals + 1);
            } else if (shorthand && it.hasNext()) {
                value = it.next();
            } else {
                throw new ConfigException("missing value for " + option + ": use " + option + "=VALUE");
            }
            if (option.equals(CONFIG_OPTION)) {
                configFile = Path.of(value);
            } else {
                String key = option.equals(DATA_DIR_OPTION) ? ConfigKey.DATA_DIR.key() : option.substring(2);
                requireKnown(key, "command line option " + option);
                settings.put(key, value);
            }
        }
        return configFile;
    }

    /**
     * Unknown {@code BASALT_*} variables only warn: deployment tooling (DevStack, for one) uses the
     * prefix for its own variables, and refusing to start over those would be worse than a typo.
     * Empty variables count as unset, as container tooling often passes them that way.
     */
    private static Map<String, String> fromEnvironment(Map<String, String> environment) {
        Map<String, String> byVariable = new HashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            byVariable.put(key.environmentVariable(), key.key());
        }
        Map<String, String> settings = new HashMap<>();
        environment.forEach((variable, value) -> {
            if (!variable.startsWith(ConfigKey.ENV_PREFIX)) {
                return;
            }
            String key = byVariable.get(variable);
            if (key == null) {
                LOG.warn("ignoring environment variable {}: it names no configuration key", variable);
            } else if (!value.isEmpty()) {
                settings.put(key, value);
            }
        });
        return settings;
    }

    private static PropertiesConfiguration loadFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("configuration file " + file + " does not exist or is not a file");
        }
        PropertiesConfiguration properties = new PropertiesConfiguration();
        try {
            new FileHandler(properties).load(file.toFile());
        } catch (ConfigurationException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
        properties.getKeys().forEachRemaining(key -> requireKnown(key, "key in " + file));
        return properties;
    }

    private static Map<String, String> defaults() {
        Map<String, String> defaults = new HashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            if (key.defaultValue() != null) {
                defaults.put(key.key(), key.defaultValue());
            }
        }
        return defaults;
    }

    private static void requireKnown(String key, String where) {
        if (ConfigKey.of(key).isEmpty()) {
            throw new ConfigException("unknown " + where + ": '" + key + "'; known keys: " + ConfigKey.knownKeys());
        }
    }
}
