"""Files around the document: autosave and recovery, recent files, import and export."""
