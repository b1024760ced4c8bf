/**
 * A VPC across three AZs (more AZs = more spot pools). GPU instances sit in the public subnets with
 * public IPs and an egress-only security group, so no NAT gateway is paid for; nothing can connect in.
 */
export function createNetwork() {
  const vpc = new sst.aws.Vpc('Network', { az: 3 });
  const fleetSecurityGroup = new aws.ec2.SecurityGroup('FleetSecurityGroup', {
    vpcId: vpc.id,
    description: 'cascade-bot GPU runners: egress only',
    egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] }],
  });
  return { vpc, fleetSecurityGroup };
}

export type Network = ReturnType<typeof createNetwork>;
