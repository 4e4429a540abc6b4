package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code edgefleet experiment show} over a real socket against a canned API answer: the accuracy rows, a Wilson bound
 * that is zero up to floating error printed as 0 (it printed {@code 1.735e-18}), and one number format throughout.
 */
class ExperimentShowTest {
    static final String ANSWER = """
            {"id": "ab-1", "model": "clf", "versionA": "1", "versionB": "2", "share": 0.3, "splitBy": "share", "state": "running",
             "comparison": {"level": 0.95, "minSamples": 200, "judged": true, "minLabelled": 100, "accuracyJudged": false,
              "a": {"requests": 840, "errors": 0, "devices": 2, "errorRate": {"value": 0.0, "low": 1.735e-18, "high": 0.004552},
                    "latencyMs": {"value": 5.25, "low": 5.1, "high": 5.4}, "labelled": 120, "correct": 96,
                    "accuracy": {"value": 0.8, "low": 0.7194, "high": 0.8621}},
              "b": {"requests": 360, "errors": 0, "devices": 2, "errorRate": {"value": 0.0, "low": 0.0, "high": 0.01056},
                    "labelled": 30, "correct": 30, "accuracy": {"value": 1.0, "low": 0.8865, "high": 1.0}},
              "difference": {"errorRate": {"value": 0.0, "low": -0.004552, "high": 0.01056, "significant": false},
                    "accuracy": {"value": 0.2, "low": 0.0731, "high": 0.2806, "significant": true}}}}""";

    @Test
    void prints_accuracy_rows_and_zero_bounds_as_zero_in_one_format() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/experiments/ab-1", x -> {
            byte[] body = ANSWER.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.createContext("/api/v1/experiments/ab-none", x -> {
            byte[] body = "{\"type\":\"about:blank\",\"title\":\"No experiment\",\"status\":404,\"detail\":\"no experiment 'ab-none'\"}"
                    .getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/problem+json");
            x.sendResponseHeaders(404, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            // the shared API options (ApiOptions): --json prints the API's answer as is; a failure goes to stderr
            StringWriter raw = new StringWriter();
            assertThat(Main.run(new PrintWriter(raw, true), new PrintWriter(new StringWriter(), true), "experiment", "show", "ab-1", "--json",
                    "--server", "http://127.0.0.1:" + server.getAddress().getPort(), "--token", "t")).isEqualTo(Main.OK);
            assertThat(raw.toString().strip()).isEqualTo(ANSWER.strip());
            StringWriter failed = new StringWriter();
            StringWriter nothing = new StringWriter();
            assertThat(Main.run(new PrintWriter(nothing, true), new PrintWriter(failed, true), "experiment", "show", "ab-none",
                    "--server", "http://127.0.0.1:" + server.getAddress().getPort(), "--token", "t")).isEqualTo(Main.FAILED);
            assertThat(failed.toString()).contains("error 404").contains("no experiment 'ab-none'");
            assertThat(nothing.toString()).isEmpty();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "experiment", "show", "ab-1", "--server",
                    "http://127.0.0.1:" + server.getAddress().getPort(), "--token", "t");
            assertThat(rc).as(err.toString()).isEqualTo(Main.OK);
            String text = out.toString();
            assertThat(text).doesNotContain("e-18").doesNotContain("E-18");
            assertThat(text).containsPattern("errorRate +0 \\[0, 0\\.0046\\] +0 \\[0, 0\\.0106\\] +0 \\[-0\\.0046, 0\\.0106\\]");
            assertThat(text).containsPattern("labelled +120 +30");
            assertThat(text).containsPattern("accuracy +0\\.8000 \\[0\\.7194, 0\\.8621\\] +1\\.0000 \\[0\\.8865, 1\\.0000\\] +0\\.2000 \\[0\\.0731, 0\\.2806\\] \\*");
            assertThat(text).contains("accuracy not judged yet (fewer than 100 labelled answers in an arm)");
            assertThat(text).containsPattern("latencyMs +5\\.2500 \\[5\\.1000, 5\\.4000\\] +- ");
        } finally {
            server.stop(0);
        }
    }
}
