package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code edgefleet tokens create|list|revoke} and {@code edgefleet audit}: operator access (docs/security.md). */
final class AccessCommands {
    private AccessCommands() {
    }

    @Command(name = "tokens", mixinStandardHelpOptions = true,
            description = {"Named, scoped, expiring API tokens (needs a token with scope tokens:admin).",
                "Scopes: fleet:read fleet:write models:read models:write rollouts:read rollouts:write inference:invoke",
                "sync:read devices:enrol devices:revoke audit:read tokens:admin."},
            subcommands = {Create.class, ListTokens.class, Revoke.class})
    static final class Tokens implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create a token and print its secret alone on stdout (shown this once; it starts with eft_); what it is goes to stderr.",
                "A token can only be given scopes the caller's own token holds."})
    static final class Create implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "Who or what holds it, e.g. ci-pipeline (recorded in the audit).") String name;
        @Option(names = "--scope", required = true, paramLabel = "SCOPE", description = "A scope; repeat, or give several separated by commas.")
        List<String> scopes;
        @Option(names = "--ttl", paramLabel = "TTL", description = "Lifetime: 30d, 12h, 15m, 90s or ISO-8601 (default 90d, at most 366d).")
        String ttl;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("scopes", scopes);
            if (ttl != null) {
                body.put("ttl", ttl);
            }
            CloudClient.Response r = api.client().post("/api/v1/tokens", body);
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            PrintWriter out = spec.commandLine().getOut();
            JsonNode t = r.json().get("token");
            // the secret alone on stdout (`tokens create ... > ci.token` gives a usable --token-file), the rest on stderr
            PrintWriter err = spec.commandLine().getErr();
            err.printf("token %s (%s), scopes %s, expires %s; its secret (shown only now; store it like a password) follows on stdout%n",
                    t.get("name").asText(), t.get("id").asText(), join(t.get("scopes")), t.path("expiresAt").asText("never"));
            err.flush();
            out.println(r.json().get("secret").asText());
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (never their secrets): active, expired and revoked.")
    static final class ListTokens implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().get("/api/v1/tokens");
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            PrintWriter out = spec.commandLine().getOut();
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode t : r.json()) {
                rows.add(List.of(t.get("name").asText(), t.get("state").asText(), join(t.get("scopes")), t.get("createdAt").asText(),
                        t.path("expiresAt").asText("never"), t.path("lastUsedAt").asText("-"), t.path("revokedAt").asText("-")));
            }
            CloudCommands.table(out, List.of("NAME", "STATE", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "REVOKED"), rows);
            out.printf("%d token(s)%n", rows.size());
            return Main.OK;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke the active token NAME; its next call is refused (401).")
    static final class Revoke implements Callable<Integer> {
        @Parameters(paramLabel = "NAME") String name;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().post("/api/v1/tokens/" + CloudClient.enc(name) + "/revoke", Map.of());
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            spec.commandLine().getOut().printf("token %s revoked%n", r.json().get("name").asText());
            return Main.OK;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = {"Who did what, when, from where: every mutating call and every refused one (needs scope audit:read).",
                "Newest first."})
    static final class Audit implements Callable<Integer> {
        @Option(names = "--since", paramLabel = "WHEN", description = "ISO-8601 instant or -15m, -2h, -1d.") String since;
        @Option(names = "--actor", paramLabel = "NAME", description = "Only this token name, JWT subject or device.") String actor;
        @Option(names = "--limit", paramLabel = "N", description = "At most N rows (default 100).") Integer limit;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            List<String> q = new ArrayList<>();
            if (since != null) {
                q.add("since=" + CloudClient.enc(since));
            }
            if (actor != null) {
                q.add("actor=" + CloudClient.enc(actor));
            }
            if (limit != null) {
                q.add("limit=" + limit);
            }
            CloudClient.Response r = api.client().get("/api/v1/audit" + (q.isEmpty() ? "" : "?" + String.join("&", q)));
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            PrintWriter out = spec.commandLine().getOut();
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode e : r.json()) {
                rows.add(List.of(e.get("at").asText(), e.get("actorKind").asText() + ":" + e.get("actor").asText(), e.get("method").asText(),
                        e.get("target").asText(), e.get("status").asText(), e.get("remote").asText()));
            }
            CloudCommands.table(out, List.of("AT", "ACTOR", "METHOD", "TARGET", "STATUS", "FROM"), rows);
            out.printf("%d row(s)%n", rows.size());
            return Main.OK;
        }
    }

    private static String join(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return String.join(" ", out);
    }
}
