/**
 * What the studio asks of each lab, imported only from the lab's package entry. Every piece is
 * optional: a lab that does not export it yet gets a page that says which feature is missing.
 *
 * - `views` (every lab): metadata the pages use for titles.
 * - `detectFaces` (`@introdl/lab2-vision`): the lab's sliding-window detector over one image.
 * - `chatStream` (`@introdl/lab3-llm`): a reply generated token by token.
 */

/** Metadata a lab exports as `views` for the studio's pages. */
export interface LabViews {
  /** Page title, e.g. "Lab 1: music generation". */
  title: string;
  /** One sentence under the title. */
  description?: string;
}

/** An image as the browser sends it: `width · height · 4` bytes, row-major RGBA. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One window the lab's detector keeps, in the image's pixel coordinates, with the classifier's P(face). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  pFace: number;
}

/**
 * Lab 2: runs the face classifier saved in the run folder `run` (absolute path) as a sliding-window
 * detector over `image` and returns the windows it keeps (after non-maximum suppression), best first.
 */
export type DetectFaces = (image: RgbaImage, options: { run: string; signal?: AbortSignal }) => Promise<FaceBox[]>;

/** One chat turn sent to Lab 3. */
export interface ChatRequest {
  message: string;
  /** `base`: the pretrained model; `tuned`: the model with the LoRA weights of `run`. */
  model: 'base' | 'tuned';
  /** Absolute path of a Lab 3 run folder (required for `tuned`, optional for `base`). */
  run?: string;
  maxNewTokens: number;
  temperature: number;
  /** Aborted when the page closes the stream: stop generating. */
  signal: AbortSignal;
}

/** Lab 3: yields the reply's text piece by piece (one or more tokens per piece) as it is generated. */
export type ChatStream = (request: ChatRequest) => AsyncIterable<string>;

/** The lab features the server can call, as loaded from the labs or given by the embedding code. */
export interface LabFeatures {
  views: Partial<Record<'lab1-music' | 'lab2-vision' | 'lab3-llm', LabViews>>;
  detectFaces?: DetectFaces;
  chatStream?: ChatStream;
}

/** Whether a live feature can be used, and if not, why (shown on the page). */
export interface FeatureStatus {
  available: boolean;
  reason?: string;
}
