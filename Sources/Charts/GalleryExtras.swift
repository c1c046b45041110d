/// Gallery figures of the second set of chart kinds.
func galleryPhaseTwoCharts(random: inout GalleryRandom) -> [(String, any Chart)] {
    []
}

/// Gallery files that are not single charts (animations); returns the paths written.
func galleryExtras(folder: String) throws -> [String] {
    []
}
