package io.edgefleet.cli;

import io.edgefleet.transport.logging.LogFormat;
import io.edgefleet.transport.logging.LogLevels;
import io.edgefleet.transport.logging.LogSetup;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;

/**
 * The top-level {@code logging} node of {@code agent.yaml} / {@code cloud.yaml}:
 * <pre>
 * logging:
 *   format: json                      # text (default) or json
 *   levels:                           # logger (package or class) to level; "" or root: everything
 *     io.edgefleet.agent: DEBUG
 *     io.helidon: WARN
 * </pre>
 * Separate from {@link LoggingOptions} so that the CLI's other commands never load Helidon's config classes.
 */
final class LogConfigFile {
    private LogConfigFile() {
    }

    static LogSetup.Settings read(Path yaml) {
        return io.edgefleet.transport.ConfigFiles.read(yaml, () -> {
            Config root = Config.builder().disableSystemPropertiesSource().disableEnvironmentVariablesSource()
                    .sources(ConfigSources.file(yaml)).build();
            Config logging = root.get("logging");
            // a misplaced or misspelt node must not be ignored in silence (the process would log at defaults)
            for (String role : java.util.List.of("agent", "cloud")) {
                if (root.get(role).get("logging").exists()) {
                    throw new IllegalArgumentException("configuration " + yaml + ": " + role + ".logging: logging is a top-level node, beside "
                            + role + ":, not inside it");
                }
            }
            if (logging.exists()) {
                if (logging.type() != Config.Type.OBJECT) {
                    throw new IllegalArgumentException("configuration " + yaml + ": logging: a mapping with format and levels, e.g."
                            + " logging: {format: json, levels: {io.edgefleet: DEBUG}}");
                }
                for (Config child : logging.asNodeList().orElse(java.util.List.of())) {
                    if (!child.name().equals("format") && !child.name().equals("levels")) {
                        throw new IllegalArgumentException("configuration " + yaml + ": logging." + child.name() + ": unknown key (format and levels are)");
                    }
                }
                Config levelsNode = logging.get("levels");
                if (levelsNode.exists() && levelsNode.type() != Config.Type.OBJECT) {
                    throw new IllegalArgumentException("configuration " + yaml + ": logging.levels: a mapping of logger to level, e.g."
                            + " levels: {io.edgefleet.agent: DEBUG, io.helidon: WARN}");
                }
            }
            LogFormat format = logging.get("format").asString().map(s -> {
                try {
                    return LogFormat.parse(s);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("configuration " + yaml + ": logging.format: " + e.getMessage());
                }
            }).orElse(LogFormat.TEXT);
            Map<String, Level> levels = new LinkedHashMap<>();
            String prefix = "logging.levels.";
            for (Map.Entry<String, String> e : logging.get("levels").asMap().orElse(Map.of()).entrySet()) {
                String key = e.getKey().startsWith(prefix) ? e.getKey().substring(prefix.length()) : e.getKey();
                key = Config.Key.unescapeName(key);
                String logger = key.equals("root") ? "" : key;
                try {
                    levels.put(logger, LogLevels.parse(e.getValue()));
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("configuration " + yaml + ": logging.levels." + key + ": " + ex.getMessage());
                }
            }
            return new LogSetup.Settings(format, levels);
        });
    }
}
