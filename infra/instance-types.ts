/**
 * Which EC2 GPU instance types the fleet may launch, and why some are refused.
 *
 * The runner drives exactly one GPU per instance (one job at a time per GPU), the image is built for
 * x86_64, and Stable Cascade's stages need room in GPU memory; so a type is accepted only when its
 * family is a known x86 NVIDIA family, the size has a single GPU, and that GPU has enough memory.
 * Figures are from the EC2 accelerated-computing instance pages (one GPU per size listed).
 */

export interface GpuFamily {
  gpu: string;
  gpuMemoryGiB: number;
  /** Sizes of this family that carry exactly one GPU. */
  singleGpuSizes: readonly string[];
}

export const GPU_FAMILIES: Readonly<Record<string, GpuFamily>> = {
  g4dn: { gpu: 'NVIDIA T4', gpuMemoryGiB: 16, singleGpuSizes: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'] },
  g5: { gpu: 'NVIDIA A10G', gpuMemoryGiB: 24, singleGpuSizes: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'] },
  g6: { gpu: 'NVIDIA L4', gpuMemoryGiB: 24, singleGpuSizes: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'] },
  gr6: { gpu: 'NVIDIA L4', gpuMemoryGiB: 24, singleGpuSizes: ['4xlarge', '8xlarge'] },
  g6e: { gpu: 'NVIDIA L40S', gpuMemoryGiB: 48, singleGpuSizes: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'] },
};

/** Spread over several types (and every AZ) so spot capacity is found and Capacity Rebalancing has somewhere to go. */
export const DEFAULT_INSTANCE_TYPES = ['g6.xlarge', 'g5.xlarge', 'g6e.xlarge', 'g6.2xlarge', 'g5.2xlarge'] as const;

/**
 * Problems with one instance type, as sentences naming the type; empty when it is usable.
 *
 * @example instanceTypeProblems('g4dn.xlarge', 20) // → ['g4dn.xlarge: its NVIDIA T4 has 16 GiB of GPU memory; at least 20 GiB is required …']
 */
export function instanceTypeProblems(instanceType: string, minGpuMemoryGiB: number): string[] {
  const match = /^([a-z][a-z0-9-]*)\.([a-z0-9]+)$/.exec(instanceType);
  if (!match) return [`"${instanceType}" is not an EC2 instance type (expected family.size, e.g. g6.xlarge)`];
  const [, familyName, size] = match as unknown as [string, string, string];
  const family = GPU_FAMILIES[familyName];
  if (!family) {
    return [`${instanceType}: family "${familyName}" is not a supported single-GPU x86 NVIDIA family (supported: ${Object.keys(GPU_FAMILIES).join(', ')})`];
  }
  const problems: string[] = [];
  if (!family.singleGpuSizes.includes(size)) {
    problems.push(`${instanceType}: the runner uses one GPU per instance; single-GPU ${familyName} sizes are ${family.singleGpuSizes.join(', ')}`);
  }
  if (family.gpuMemoryGiB < minGpuMemoryGiB) {
    problems.push(
      `${instanceType}: its ${family.gpu} has ${family.gpuMemoryGiB} GiB of GPU memory; at least ${minGpuMemoryGiB} GiB is required ` +
        '(lower CASCADE_MIN_GPU_MEMORY_GIB only for the lite model variant)',
    );
  }
  return problems;
}
