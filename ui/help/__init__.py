"""The Help menu: the keyboard shortcuts sheet, the user guide, and About netbuilder."""
