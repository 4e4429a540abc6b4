package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in scenario {@code shadow-ab} ({@code ./edgefleet demo --scenario shadow-ab}) end to end with real agents, real
 * ONNX models and the real control plane: a candidate whose top-1 class differs from the active version's on 30 % of the
 * inputs is rolled back in its shadow wave and no client is ever answered by it (counted from the agents' answers,
 * {@code model_version}); a candidate differing on 1 % passes its shadow wave and rolls out; an A/B experiment against an
 * uncalibrated version counts both arms (control plane telemetry and the clients' answers) and shows its confidence
 * drop as significant; half the fleet's inputs shifting raises the drift alarm. Runs on Mosquitto (quicker to start than
 * the scenario's secured embedded broker), like the other scenario tests.
 */
@Tag("slow")
class ShadowAbScenarioTest {
    @TempDir
    Path dir;

    @Test
    void a_disagreeing_candidate_is_stopped_in_shadow_an_agreeing_one_rolls_out_an_ab_experiment_compares_and_drift_alarms() throws Exception {
        java.io.StringWriter yaml = new java.io.StringWriter();
        assertThat(io.edgefleet.cli.Main.run(new java.io.PrintWriter(yaml), new java.io.PrintWriter(new java.io.StringWriter()), "demo", "--scenario",
                "shadow-ab", "--print")).isZero();
        Scenario sc = Scenario.parse(yaml.toString());
        SimRun run = SimRun.passingOnMosquitto(sc, dir);
        Report r = run.report();
        String out = run.console();

        Report.StepResult bad = run.step("rollout-v2");
        assertThat(bad.state()).hasValue("rolled-back");
        assertThat(bad.stoppedInWave()).hasValue(1);
        Report.Shadow bs = bad.shadow().orElseThrow();
        assertThat(bs.samples()).as(out).isGreaterThanOrEqualTo(200);
        assertThat(bs.agreement()).as("v2 disagrees on 30 %% by construction: %s", out).isBetween(0.55, 0.85);
        assertThat(bs.agreementUpper()).as("the gate's upper bound is below its minimum").isBetween(bs.agreement(), 0.95);
        assertThat(bs.devices()).isBetween(1L, 4L);
        assertThat(bs.nonFinite()).isZero();
        assertThat(bs.verdict()).isEqualTo("rolled back in shadow wave 1, no device answered with it");
        // from the agents' own answers over the whole run, not from the report's verdict
        assertThat(run.answersByVersion()).as("answers by the version that gave them").doesNotContainKey("2").containsKeys("1", "3", "4");
        assertThat(out).contains("rolled back in shadow wave 1, no device answered with it");

        Report.StepResult good = run.step("rollout-v3");
        assertThat(good.state()).hasValue("succeeded");
        Report.Shadow gs = good.shadow().orElseThrow();
        assertThat(gs.samples()).isGreaterThanOrEqualTo(200);
        assertThat(gs.agreement()).as(out).isGreaterThanOrEqualTo(0.95);
        assertThat(gs.verdict()).startsWith("passed shadow wave 1, then succeeded");

        assertThat(r.experiments()).hasSize(1);
        Report.ExperimentResult ab = r.experiments().get(0);
        assertThat(ab.a().version()).isEqualTo("3");
        assertThat(ab.b().version()).isEqualTo("4");
        assertThat(ab.judged()).as(out).isTrue();
        assertThat(ab.a().requests()).isGreaterThanOrEqualTo(200);
        assertThat(ab.b().requests()).isGreaterThanOrEqualTo(200);
        assertThat(ab.a().answersSeen()).isPositive();
        assertThat(ab.b().answersSeen()).isPositive();
        // the control plane counts from telemetry what the clients were answered with, arm by arm
        for (Report.Arm arm : java.util.List.of(ab.a(), ab.b())) {
            assertThat(arm.answersSeen()).as("arm %s: telemetry counts every answer (errors are requests without one)", arm.version())
                    .isBetween(arm.requests() - arm.errors(), arm.requests());
        }
        double share = (double) ab.b().requests() / (ab.a().requests() + ab.b().requests());
        assertThat(share).as("a 50 %% split").isBetween(0.4, 0.6);
        Report.Interval conf = ab.difference().get("confidence");
        assertThat(conf.value()).as("the uncalibrated arm's confidence is lower").isNegative();
        assertThat(conf.high()).isNegative();
        assertThat(conf.significant()).hasValue(true);
        assertThat(ab.difference()).containsKeys("errorRate", "latencyMs");
        assertThat(out).contains("B - A:").contains("arm A v3").contains("arm B v4");

        Report.FaultResult drift = run.fault("input-drift");
        assertThat(drift.outcome()).startsWith("drift alarm for activity/");
        assertThat(drift.measured()).containsKey("alarmSeconds");
    }
}
