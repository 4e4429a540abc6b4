package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import java.io.PrintWriter;
import java.time.Duration;
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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code edgefleet enrolment-tokens create|list|revoke} and {@code edgefleet devices revoke F/D}
 * (docs/security.md "Enrolment and device identity").
 */
@Command(name = "enrolment-tokens", mixinStandardHelpOptions = true,
        description = "Short-lived, counted tokens with which devices enrol for their certificate (docs/security.md).",
        subcommands = {EnrolmentCommands.Create.class, EnrolmentCommands.ListTokens.class, EnrolmentCommands.Revoke.class})
final class EnrolmentCommands implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Issue an enrolment token for a fleet (any device id in it) or one device.",
                "The token is printed once; only its SHA-256 is kept. Give it to the agent: --enrol-token or EF_ENROL_TOKEN."})
    static final class Create implements Callable<Integer> {
        @Option(names = "--fleet", paramLabel = "F", required = true, description = "Fleet the enrolled devices join.") String fleet;
        @Option(names = "--device", paramLabel = "D", description = "Only this device id may enrol with it (default: any in the fleet).") String device;
        @Option(names = "--uses", paramLabel = "N", defaultValue = "1", description = "Enrolments it allows (default 1).") int uses;
        @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h", description = "How long it is valid: 90s, 30m, 1h, 2d (default 1h).")
        String ttl;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("fleet", fleet);
            if (device != null) {
                body.put("device", device);
            }
            body.put("uses", uses);
            body.put("ttlSeconds", duration(spec, ttl).toSeconds());
            CloudClient.Response r = api.client().post("/api/v1/enrolment-tokens", body);
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            JsonNode t = r.json();
            PrintWriter out = spec.commandLine().getOut();
            out.println(t.get("token").asText());
            PrintWriter err = spec.commandLine().getErr(); // the details on stderr, so `$(edgefleet enrolment-tokens create ...)` captures the token only
            err.printf("enrolment token %s for %s/%s: %d use(s), expires %s; CA sha256 %s. Shown once: it is not stored.%n", t.get("id").asText(),
                    t.get("fleet").asText(), t.path("device").isTextual() ? t.get("device").asText() : "*", t.get("usesLeft").asInt(),
                    t.get("expiresAt").asText(), t.get("caSha256").asText());
            err.flush();
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every enrolment token, newest first, without secrets.")
    static final class ListTokens implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().get("/api/v1/enrolment-tokens");
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode t : r.json()) {
                rows.add(List.of(t.get("id").asText(), t.get("fleet").asText(), t.path("device").isTextual() ? t.get("device").asText() : "*",
                        t.get("status").asText(), Integer.toString(t.get("usesLeft").asInt()), t.get("expiresAt").asText(),
                        t.path("createdBy").asText("")));
            }
            CloudCommands.table(spec.commandLine().getOut(), List.of("ID", "FLEET", "DEVICE", "STATUS", "USES LEFT", "EXPIRES", "BY"), rows);
            return Main.OK;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token: nothing can enrol with it any more.")
    static final class Revoke implements Callable<Integer> {
        @Parameters(paramLabel = "ID") String id;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().delete("/api/v1/enrolment-tokens/" + CloudClient.enc(id));
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            spec.commandLine().getOut().printf("revoked enrolment token %s%n", id);
            return Main.OK;
        }
    }

    /** {@code edgefleet devices revoke F/D}: every certificate of the device, at the broker and every endpoint. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = {"Revoke every certificate of a device: listed in the CRL, refused by the broker and the HTTPS endpoints.",
                "The device must enrol again with a new token to come back."})
    static final class RevokeDevice implements Callable<Integer> {
        @Parameters(paramLabel = "FLEET/DEVICE") String target;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            int slash = target.indexOf('/');
            if (slash <= 0 || slash == target.length() - 1 || target.indexOf('/', slash + 1) >= 0) {
                throw new ParameterException(spec.commandLine(), "expected FLEET/DEVICE, got '" + target + "'");
            }
            CloudClient.Response r = api.client().post("/api/v1/fleets/" + CloudClient.enc(target.substring(0, slash)) + "/devices/"
                    + CloudClient.enc(target.substring(slash + 1)) + "/revoke", Map.of());
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            spec.commandLine().getOut().printf("revoked %s: %d certificate(s)%n", target, r.json().get("revoked").size());
            return Main.OK;
        }
    }

    /** {@code 90s}, {@code 30m}, {@code 1h}, {@code 2d}, or an ISO-8601 duration ({@code PT1H}). */
    static Duration duration(CommandSpec spec, String text) {
        try {
            return io.edgefleet.cloud.api.AccessApi.ttl(text);
        } catch (io.edgefleet.cloud.api.ApiException e) {
            throw new ParameterException(spec.commandLine(), "--ttl '" + text + "' is not a duration (90s, 30m, 1h, 2d or PT1H)");
        }
    }
}
