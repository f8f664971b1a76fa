/** The description of a data set: what it is, which files make it up, where they may be found. */

/** One file of a data set. */
export interface DatasetFile {
  /** The file name inside the data set's folder. */
  name: string;
  /** Where to download it from. */
  url?: string;
  /** The SHA-256 of the file as served at `url`, in hex. A download is only kept if it matches. */
  sha256?: string;
  /** The size of the file as served at `url`, for progress and disk-space messages. */
  bytes?: number;
}

/** A data set introdl knows how to find and, where allowed, download. */
export interface DatasetSpec {
  /** A human name, used in messages: "Fashion-MNIST". */
  name: string;
  description: string;
  /** The licence of the data, e.g. "MIT". */
  license: string;
  /** The URL of the project that publishes the data. */
  source: string;
  files: DatasetFile[];
  /** The subfolder name under INTRODL_DATA and the cache, e.g. "fashion-mnist". */
  dataDirName: string;
  /** Folders where an operating-system package installs the files. */
  systemDirs?: string[];
  /** The Debian package that installs the files into one of `systemDirs`. */
  debianPackage?: string;
}
