package io.edgefleet.cli;

import picocli.CommandLine;

/**
 * The simulator's commands: {@code simulate}, {@code demo}, {@code agent bench} and
 * {@code rollout bench}. They run virtual fleets, brokers and control planes in one JVM, so only
 * the developer launcher ({@code ./edgefleet}) has them, never a distribution.
 */
public final class SimulatorCommands implements CommandExtension {
    @Override
    public void extend(CommandLine root) {
        root.addSubcommand(new SimulateCommands.Simulate());
        root.addSubcommand(new SimulateCommands.Demo());
        CommandLine agent = root.getSubcommands().get("agent");
        if (agent != null && agent.getCommand() instanceof AgentCommand) {
            agent.addSubcommand(new AgentBench());
        }
        CommandLine rollout = root.getSubcommands().get("rollout");
        if (rollout != null && rollout.getCommand() instanceof RolloutCommands) {
            rollout.addSubcommand(new RolloutBench());
        }
    }
}
