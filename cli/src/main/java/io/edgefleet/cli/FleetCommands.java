package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code devices tags list|add|remove}, {@code events} and {@code model deprecate}: what an operator
 * did with curl before. Each calls the {@code /api/v1} route named in its help and, with
 * {@code --json}, prints the API's JSON as it came.
 */
final class FleetCommands {
    private FleetCommands() {
    }

    /** {@code FLEET/DEVICE} as the API's path {@code /api/v1/fleets/F/devices/D}. */
    static String devicePath(CommandSpec spec, String fleetDevice) {
        String[] fd = fleetDevice.split("/", 2);
        if (fd.length != 2 || fd[0].isBlank() || fd[1].isBlank()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a device is FLEET/DEVICE, got '"
                    + fleetDevice + "'");
        }
        return "/api/v1/fleets/" + CloudClient.enc(fd[0]) + "/devices/" + CloudClient.enc(fd[1]);
    }

    @Command(name = "tags", mixinStandardHelpOptions = true,
            description = {"A device's tags (selectors match them: tag=T). add and remove read the device's tags and write them back",
                "(PUT /api/v1/fleets/F/devices/D, scope fleet:write); the device must be registered or have reported."},
            subcommands = {ListTags.class, AddTags.class, RemoveTags.class})
    static final class Tags implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    /** The shared part of the tag commands: read the device, change its tags, write them back. */
    abstract static class TagCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FLEET/DEVICE") String device;
        @Option(names = "--json", description = "Print the API's JSON of the device.") boolean json;
        @Mixin CloudCommands.Server server;
        @Spec
        CommandSpec spec;

        /** The tags to write given the device's tags now, or null to only read. */
        abstract Set<String> change(Set<String> now);

        @Override
        public Integer call() {
            String path = devicePath(spec, device);
            CloudClient client = server.client();
            CloudClient.Response r = client.get(path);
            if (!r.ok()) {
                return CloudCommands.fail(spec, r);
            }
            Set<String> now = new LinkedHashSet<>();
            r.json().path("tags").forEach(t -> now.add(t.asText()));
            Set<String> next = change(now);
            if (next != null && !next.equals(now)) {
                r = client.put(path, Map.of("tags", List.copyOf(next)));
                if (!r.ok()) {
                    return CloudCommands.fail(spec, r);
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.text());
                return Main.OK;
            }
            List<String> tags = new ArrayList<>();
            r.json().path("tags").forEach(t -> tags.add(t.asText()));
            out.printf("%s: %s%n", device, tags.isEmpty() ? "no tags" : String.join(" ", tags));
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Print a device's tags.")
    static final class ListTags extends TagCommand {
        @Override
        Set<String> change(Set<String> now) {
            return null;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add tags to a device (those it has stay).")
    static final class AddTags extends TagCommand {
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "TAG") List<String> tags;

        @Override
        Set<String> change(Set<String> now) {
            Set<String> out = new LinkedHashSet<>(now);
            out.addAll(tags);
            return out;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove tags from a device (a tag it lacks is ignored).")
    static final class RemoveTags extends TagCommand {
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "TAG") List<String> tags;

        @Override
        Set<String> change(Set<String> now) {
            Set<String> out = new LinkedHashSet<>(now);
            tags.forEach(out::remove);
            return out;
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true,
            description = {"The control plane's events, newest first: registrations, deprecations, device changes, rollouts",
                "(GET /api/v1/events, scope fleet:read)."})
    static final class Events implements Callable<Integer> {
        @Option(names = "--subject", paramLabel = "S", description = "Only events about S, e.g. kws/2 (a model version) or plant-7/cam-1.")
        String subject;
        @Option(names = "--limit", paramLabel = "N", description = "At most N events (default 100).") Integer limit;
        @Option(names = "--json", description = "Print the API's JSON.") boolean json;
        @Mixin CloudCommands.Server server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            List<String> q = new ArrayList<>();
            if (subject != null) {
                q.add("subject=" + CloudClient.enc(subject));
            }
            if (limit != null) {
                q.add("limit=" + limit);
            }
            CloudClient.Response r = server.client().get("/api/v1/events" + (q.isEmpty() ? "" : "?" + String.join("&", q)));
            if (!r.ok()) {
                return CloudCommands.fail(spec, r);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.text());
                return Main.OK;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode e : r.json()) {
                rows.add(List.of(e.path("at").asText(), e.path("kind").asText(), e.path("subject").asText(), e.path("actor").asText("-"),
                        detail(e.path("detail"))));
            }
            CloudCommands.table(out, List.of("AT", "KIND", "SUBJECT", "ACTOR", "DETAIL"), rows);
            out.printf("%d event(s)%n", rows.size());
            return Main.OK;
        }

        private static String detail(JsonNode d) {
            List<String> parts = new ArrayList<>();
            d.properties().forEach(e -> parts.add(e.getKey() + "=" + Numbers.human(e.getValue())));
            return String.join(" ", parts);
        }
    }

    @Command(name = "deprecate", mixinStandardHelpOptions = true,
            description = {"Deprecate a model version: devices can still download it (and roll back to it), but no new rollout may",
                "target it (POST /api/v1/models/M/versions/V/deprecate, scope models:write)."})
    static final class Deprecate implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = "The model's name in the registry.") String model;
        @Parameters(index = "1", paramLabel = "VERSION", description = "The version to deprecate.") String version;
        @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why, recorded with who and when.") String reason;
        @Option(names = "--json", description = "Print the API's JSON.") boolean json;
        @Mixin CloudCommands.Server server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = server.client().post("/api/v1/models/" + CloudClient.enc(model) + "/versions/" + CloudClient.enc(version)
                    + "/deprecate", Map.of("reason", reason));
            if (!r.ok()) {
                return CloudCommands.fail(spec, r);
            }
            if (json) {
                spec.commandLine().getOut().println(r.text());
                return Main.OK;
            }
            JsonNode d = r.json().path("deprecation");
            spec.commandLine().getOut().printf("%s/%s deprecated by %s at %s: %s%n", model, version, d.path("by").asText("?"),
                    d.path("at").asText("?"), d.path("reason").asText(reason));
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"The registry's models (GET /api/v1/models), or with MODEL its versions, newest first, with their status and",
                "variants (GET /api/v1/models/MODEL; scope models:read)."})
    static final class ListModels implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "List this model's versions.") String model;
        @Option(names = "--json", description = "Print the API's JSON.") boolean json;
        @Mixin CloudCommands.Server server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = server.client().get(model == null ? "/api/v1/models" : "/api/v1/models/" + CloudClient.enc(model));
            if (!r.ok()) {
                return CloudCommands.fail(spec, r);
            }
            if (json) {
                spec.commandLine().getOut().println(r.text());
                return Main.OK;
            }
            List<List<String>> rows = new ArrayList<>();
            if (model == null) {
                r.json().forEach(m -> {
                    JsonNode versions = m.path("versions");
                    rows.add(List.of(m.path("name").asText(), m.path("task").asText("-"), Integer.toString(versions.size()),
                            versions.isEmpty() ? "-" : versions.get(0).asText(), m.path("createdAt").asText("-")));
                });
                if (rows.isEmpty()) {
                    spec.commandLine().getOut().println("0 model(s): push one with `edgefleet model push FILE --name M --version V`");
                    return Main.OK;
                }
                CloudCommands.table(spec.commandLine().getOut(), List.of("MODEL", "TASK", "VERSIONS", "LATEST", "CREATED"), rows);
                spec.commandLine().getOut().printf("%d model(s)%n", rows.size());
                return Main.OK;
            }
            r.json().path("versions").forEach(v -> {
                List<String> variants = new ArrayList<>();
                v.path("variants").forEach(x -> variants.add(x.path("runtime").asText() + "-" + x.path("precision").asText()
                        + " " + ProgressBar.human(x.path("sizeBytes").asLong())));
                rows.add(List.of(v.path("version").asText(), v.path("status").asText(), String.join(", ", variants),
                        v.path("createdAt").asText("-"), v.path("createdBy").asText("-")));
            });
            CloudCommands.table(spec.commandLine().getOut(), List.of("VERSION", "STATUS", "VARIANTS", "CREATED", "BY"), rows);
            return Main.OK;
        }
    }
}
