"""Files in and out: spreadsheet import, CSV/XLSX export and the programme exchange file."""
