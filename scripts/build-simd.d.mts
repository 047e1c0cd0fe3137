export const ENTRY: string;
export const OUTPUT: string;
export function compileKernels(): Promise<Uint8Array>;
export function moduleText(bytes: Uint8Array): string;
export const GENERATED: string;
export function breakdownsModule(): string;
