package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One command id per rollout, device and intent, and the intent read back from it. */
class IntentTest {
    @Test
    void each_intent_gives_one_stable_id_per_device_and_reads_back_from_it() {
        String deploy = Intent.DEPLOY.commandId("ro-1", "f/d1");
        String rollback = Intent.ROLLBACK.commandId("ro-1", "f/d1");
        assertThat(deploy).isEqualTo(Intent.DEPLOY.commandId("ro-1", "f/d1")).startsWith("ro-1-").endsWith("-d").hasSize("ro-1-".length() + 16 + 2);
        assertThat(rollback).isEqualTo(deploy.substring(0, deploy.length() - 1) + "r");
        assertThat(Intent.DEPLOY.commandId("ro-1", "f/d2")).isNotEqualTo(deploy);
        assertThat(Intent.DEPLOY.commandId("ro-2", "f/d1")).isNotEqualTo(deploy);
        assertThat(Intent.of(deploy)).isEqualTo(Intent.DEPLOY);
        assertThat(Intent.of(rollback)).isEqualTo(Intent.ROLLBACK);
    }
}
