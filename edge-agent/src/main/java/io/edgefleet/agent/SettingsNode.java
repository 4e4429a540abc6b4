package io.edgefleet.agent;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * One node of the agent's YAML overlaid by environment variables: what {@link AgentSettings} read
 * through Helidon config until the agent had to fit in 80 MB (Helidon config loaded ~370 classes at
 * every start for one file). The rules are Helidon config's (4.x), so nothing a user relies on changed:
 * <ul>
 *   <li>the file is read by SnakeYAML's safe constructor, as Helidon's YAML parser does; a key without a
 *       value ({@code key:}) is the empty string; scalars are their text ({@code 3.0}, {@code true});</li>
 *   <li>an environment variable wins over the file: {@code AGENT_HTTP_PORT} is {@code agent.http.port}
 *       (a name with {@code _} but not {@code __}, not starting or ending with {@code _}: each {@code _dash_}
 *       or {@code _DASH_} is a {@code -}, each other {@code _} a {@code .}, matched as written and lower-cased),
 *       and a variable under a key makes that key exist ({@code AGENT_MQTT_URL} alone turns connected mode on);</li>
 *   <li>{@code ${KEY}} in a value is replaced by that key's value ({@code ${HOME}}, {@code ${agent.fleet}}),
 *       left as written when there is none;</li>
 *   <li>a value that is not a number where one is expected fails naming the key and the value.</li>
 * </ul>
 */
final class SettingsNode {
    private static final Pattern DASH = Pattern.compile("_dash_|_DASH_");
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^}]+)}");

    private final String key;
    private final Object file; // Map, List, String or null (absent)
    private final Map<String, String> env;
    private final SettingsNode root;

    private SettingsNode(String key, Object file, Map<String, String> env, SettingsNode root) {
        this.key = key;
        this.file = file;
        this.env = env;
        this.root = root == null ? this : root;
    }

    /** The whole of {@code yaml} (its root, above {@code agent}) with {@code environment} over it. */
    static SettingsNode read(Path yaml, Map<String, String> environment) {
        Object tree;
        try (Reader r = Files.newBufferedReader(yaml, StandardCharsets.UTF_8)) {
            tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e.getMessage(), e);
        }
        return new SettingsNode("", normalise(tree == null ? Map.of() : tree), aliases(environment), null);
    }

    /** A tree without a file: the environment alone (tests, and an agent started without --config). */
    static SettingsNode empty() {
        return new SettingsNode("", Map.of(), Map.of(), null);
    }

    /** Helidon config's names for environment variables: each as written, and its dotted alias as written and lower-cased. */
    static Map<String, String> aliases(Map<String, String> environment) {
        Map<String, String> out = new HashMap<>();
        environment.forEach((name, value) -> {
            out.put(name, value);
            if (name.length() > 2 && name.charAt(0) != '_' && name.charAt(name.length() - 1) != '_'
                    && name.contains("_") && !name.contains("__")) {
                String alias = DASH.matcher(name).replaceAll("-").replace('_', '.');
                out.put(alias, value);
                out.put(alias.toLowerCase(java.util.Locale.ROOT), value);
            }
        });
        return out;
    }

    // Maps and lists as SnakeYAML gave them, every scalar as its text (null: "").
    private static Object normalise(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), normalise(v)));
            return out;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(v -> out.add(normalise(v)));
            return out;
        }
        return o == null ? "" : o.toString();
    }

    /** The node at {@code path} (dot-separated; a list's elements are 0, 1, ...) below this one. */
    SettingsNode get(String path) {
        SettingsNode n = this;
        for (String name : path.split("\\.")) {
            Object child = null;
            if (n.file instanceof Map<?, ?> m) {
                child = m.get(name);
            } else if (n.file instanceof List<?> l && name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
                int i = Integer.parseInt(name);
                child = i < l.size() ? l.get(i) : null;
            }
            n = new SettingsNode(n.key.isEmpty() ? name : n.key + "." + name, child, env, root);
        }
        return n;
    }

    /** The last part of this node's key (a map's key, a list's index). */
    String name() {
        return key.substring(key.lastIndexOf('.') + 1);
    }

    /** Whether the file or the environment has this key, or a key below it. */
    boolean exists() {
        if (file != null || env.containsKey(key)) {
            return true;
        }
        String prefix = key + ".";
        return env.keySet().stream().anyMatch(k -> k.startsWith(prefix));
    }

    /** The value: the environment's, else the file's; empty when neither has one. */
    Optional<String> asString() {
        return raw().map(this::resolve);
    }

    // the value before ${...} references are replaced
    private Optional<String> raw() {
        String v = env.get(key);
        if (v == null && file instanceof String s) {
            v = s;
        }
        if (v == null && file != null) {
            throw new BadValue("'" + key + "' is a " + (file instanceof List ? "list" : "map") + " where a value is expected");
        }
        return Optional.ofNullable(v);
    }

    Optional<Integer> asInt() {
        return as("int", Integer::parseInt);
    }

    Optional<Long> asLong() {
        return as("long", Long::parseLong);
    }

    Optional<Double> asDouble() {
        return as("double", Double::parseDouble);
    }

    Optional<Boolean> asBoolean() {
        return as("boolean", s -> switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(s);
        });
    }

    /**
     * The children of a map (the file's in its order, then those only the environment has) or the elements
     * of a list; empty when this is neither.
     */
    Optional<List<SettingsNode>> asNodeList() {
        List<SettingsNode> out = new ArrayList<>();
        if (file instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                out.add(get(Integer.toString(i)));
            }
            return Optional.of(out);
        }
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        if (file instanceof Map<?, ?> m) {
            m.keySet().forEach(k -> names.add(String.valueOf(k)));
        }
        String prefix = key + ".";
        env.keySet().stream().filter(k -> k.startsWith(prefix)).map(k -> k.substring(prefix.length()).split("\\.")[0]).sorted()
                .forEach(names::add);
        if (names.isEmpty() && !(file instanceof Map)) {
            return Optional.empty();
        }
        names.forEach(n -> out.add(get(n)));
        return Optional.of(out);
    }

    /** The values directly below a map (the file's and the environment's), by their names. */
    Optional<Map<String, String>> asMap() {
        return asNodeList().map(children -> {
            Map<String, String> out = new LinkedHashMap<>();
            children.stream().filter(n -> !(n.file instanceof Map) && !(n.file instanceof List))
                    .forEach(n -> n.asString().ifPresent(v -> out.put(n.name(), v)));
            return out;
        });
    }

    private <T> Optional<T> as(String type, Function<String, T> parse) {
        return asString().map(s -> {
            try {
                return parse.apply(s.strip());
            } catch (RuntimeException e) {
                throw new BadValue("Mapping of value '" + s + "' stored under key '" + key + "' to " + type + " has failed");
            }
        });
    }

    private String resolve(String value) {
        return resolve(value, 0);
    }

    private String resolve(String value, int depth) {
        if (!value.contains("${")) {
            return value;
        }
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String ref = m.group(1);
            // a reference in the referenced value is resolved too, up to 16 levels (a cycle stays as written)
            Optional<String> v = depth < 16 ? root.get(ref).rawOrEmpty().map(r -> root.get(ref).resolve(r, depth + 1)) : Optional.empty();
            m.appendReplacement(out, Matcher.quoteReplacement(v.orElse(m.group())));
        }
        m.appendTail(out);
        return out.toString();
    }

    private Optional<String> rawOrEmpty() {
        try {
            return raw();
        } catch (BadValue e) {
            return Optional.empty();
        }
    }

    /** A value of the wrong kind: {@link io.edgefleet.transport.ConfigFiles} puts the file's name before it. */
    static final class BadValue extends RuntimeException {
        BadValue(String message) {
            super(message);
        }
    }
}
